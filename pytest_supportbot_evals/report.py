"""What a run says: the terminal summary table and the JSON report.

The JSON report is written atomically and scanned for secrets first, like a cassette.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_supportbot_evals import classification_rates, secrets
from pytest_supportbot_evals.analysis import Analysis
from pytest_supportbot_evals.runner import CaseResult

REPORT_VERSION = 1


def _name(suite: str, evaluator: str) -> str:
    return evaluator if suite == "supportbot" else f"{suite}:{evaluator}"


def _rows(analysis: Analysis) -> list[tuple[str, ...]]:
    """One row per evaluator: figures, threshold status, and the baseline verdict."""
    compared = {(c.suite, c.evaluator): c for c in analysis.comparisons}
    untrusted = analysis.untrusted()
    rows = []
    for s in analysis.gate.stats:
        c = compared.get((s.suite, s.evaluator))
        status = s.status + (" (untrusted judge)" if s.evaluator in untrusted else "")
        rows.append(
            (
                _name(s.suite, s.evaluator),
                f"{s.passed}/{s.total}",
                "-" if s.pass_rate is None else f"{s.pass_rate:.1%}",
                "-" if s.threshold is None else f"{s.threshold:.1%}",
                status,
                f"{c.baseline[0]}/{c.baseline[1]} -> {c.now[0]}/{c.now[1]}" if c else "-",
                c.verdict if c else "-",
                f"-{len(c.pass_to_fail)} +{len(c.fail_to_pass)}" if c else "-",
            )
        )
    return rows


HEADER = (
    "evaluator",
    "passed/total",
    "rate",
    "threshold",
    "status",
    "baseline -> now",
    "verdict",
    "flips",
)


def summary_lines(analysis: Analysis, results: Sequence[CaseResult]) -> list[str]:
    """The table printed at the end of a run, then the gate, its reasons and warnings."""
    rows = _rows(analysis)
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*HEADER), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row).rstrip() for row in rows]
    lines += classification_rates.summary_lines(results)
    lines.append(f"supportbot gate: {analysis.verdict.upper()} ({len(results)} case runs)")
    lines += [f"  {reason}" for reason in analysis.reasons()]
    for c in analysis.comparisons:
        if c.pass_to_fail or c.fail_to_pass:
            lines.append(
                f"  {c.evaluator} flips: pass->fail {c.pass_to_fail or '-'}, "
                f"fail->pass {c.fail_to_pass or '-'}"
            )
    lines += [f"  warning: {w}" for w in analysis.warnings()]
    for calibration in analysis.calibrations:
        lines += [f"  {line}" for line in calibration.lines()]
    review = sorted({r.golden_run_id.partition("@")[0] for r in results if r.review})
    if review:
        lines.append(
            f"  {len(review)} golden case(s) await human review of their expectations "
            f"(exported; delete 'review:' once confirmed): {', '.join(review)}"
        )
    stale = sorted({r.golden_run_id for r in results if r.stale_cassette})
    if stale:
        from pytest_supportbot_evals.cassettes import rerecord_command

        lines.append(f"  stale cassettes ({len(stale)}): {', '.join(stale)}")
        lines.append(f"  re-record them with: {rerecord_command(stale)}")
    unplayed = {r.golden_run_id: r.unplayed for r in results if r.unplayed}
    if unplayed:
        listed = ", ".join(f"{k} ({v})" for k, v in sorted(unplayed.items()))
        lines.append(f"  recorded interactions no longer played: {listed}")
    return lines


def markdown(analysis: Analysis) -> str:
    """The summary as a Markdown table (GitHub job summary, PR comments)."""
    lines = [
        f"### supportbot evals: {analysis.verdict.upper()}",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(analysis)]
    lines += [""] + [f"- {line}" for line in analysis.reasons() + analysis.warnings()]
    for c in analysis.comparisons:
        if c.pass_to_fail:
            lines.append(f"- {c.evaluator} pass->fail: {', '.join(c.pass_to_fail)}")
    return "\n".join(lines) + "\n"


def build_report(
    analysis: Analysis, results: Sequence[CaseResult], meta: dict[str, Any]
) -> dict[str, Any]:
    gate = analysis.gate
    return {
        "version": REPORT_VERSION,
        "gate": analysis.verdict,
        "reasons": analysis.reasons(),
        "evaluators": {_name(s.suite, s.evaluator): s.to_dict() for s in gate.stats},
        "errored": gate.errored,
        **analysis.to_dict(),
        "classification": classification_rates.rates(results),
        "meta": meta,
        "cases": [r.to_dict() for r in sorted(results, key=lambda r: (r.case_id, r.repetition))],
    }


def write_text(path: Path, text: str) -> None:
    """Write atomically (temp file and rename), after a secrets scan."""
    secrets.ensure_clean(text, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")
