"""What a run says: the terminal summary table and the JSON report.

The JSON report is written atomically and scanned for secrets first, like a cassette.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.evaluators import classification_rates
from pytest_supportbot_evals.recording.files import write_atomic
from pytest_supportbot_evals.run.results import DEFAULT_SUITE, CaseResult, qualified
from pytest_supportbot_evals.verdict import tokens
from pytest_supportbot_evals.verdict.analysis import Analysis

REPORT_VERSION = 1


def _rows(analysis: Analysis) -> list[tuple[str, ...]]:
    """One row per evaluator: figures, threshold status, and the baseline verdict."""
    compared = {(c.suite, c.evaluator): c for c in analysis.comparisons}
    untrusted, advisory = analysis.untrusted(), analysis.advisory
    rows = []
    for s in analysis.gate.stats:
        c = compared.get((s.suite, s.evaluator))
        status = s.status + (
            " (advisory)"
            if s.evaluator in advisory
            else " (untrusted judge)"
            if s.evaluator in untrusted
            else ""
        )
        rows.append(
            (
                qualified(s.suite, s.evaluator),
                f"{_count(s.passed)}/{s.total}",
                "-" if s.pass_rate is None else f"{s.pass_rate:.1%}",
                "-" if s.threshold is None else f"{s.threshold:.1%}",
                status,
                f"{_count(c.baseline[0])}/{c.baseline[1]} -> {_count(c.now[0])}/{c.now[1]}"
                if c
                else "-",
                (c.verdict + (" (advisory)" if c.evaluator in advisory else "")) if c else "-",
                c.flips() if c else "-",
                c.detectable.cell() if c and c.detectable else "-",
            )
        )
    return rows


def _count(passed: float) -> str:
    """A passed count: whole for a label, two decimals for a metric's sum of values."""
    return f"{round(passed, 2):g}"


HEADER = (
    "evaluator",
    "passed/total",
    "rate",
    "threshold",
    "status",
    "baseline -> now",
    "verdict",
    "flips",
    "detects",
)


def gate_line(analysis: Analysis, results: Sequence[CaseResult], verdict: str) -> str:
    """``evals gate: PASS (...)``: the verdict and how much of the golden set it covers."""
    selected, planned = analysis.selection
    evaluated = selected - len(analysis.gate.missing) - len(analysis.gate.errored)
    scope = f"{max(evaluated, 0)}/{selected} selected golden runs evaluated"
    if planned > selected:
        scope += f", {planned} in the golden sets"
    return f"evals gate: {verdict.upper()} ({len(results)} case runs; {scope})"


def summary_lines(
    analysis: Analysis,
    results: Sequence[CaseResult],
    output_errors: Sequence[str] = (),
    verbose: bool = False,
) -> list[str]:
    """The table printed at the end of a run, then the gate, its reasons and warnings.

    ``output_errors`` (requested outputs not written) fail the run too and are listed first.
    """
    rows = _rows(analysis)
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*HEADER), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row).rstrip() for row in rows]
    lines += classification_rates.summary_lines(results)
    lines += token_lines(analysis)
    verdict = "fail" if output_errors else analysis.verdict
    lines.append(gate_line(analysis, results, verdict))
    lines += [f"  {reason}" for reason in [*output_errors, *analysis.reasons()]]
    for c in analysis.comparisons:
        if c.pass_to_fail or c.fail_to_pass or c.lost:
            lines.append(
                f"  {c.evaluator} flips: pass->fail {c.pass_to_fail or '-'}, "
                f"fail->pass {c.fail_to_pass or '-'}"
                + (f", lost (measured in the baseline, not now) {c.lost}" if c.lost else "")
            )
    lines += [f"  warning: {w}" for w in analysis.warnings()]
    for calibration in analysis.calibrations:
        lines += [f"  {line}" for line in calibration.lines()]
    lines += missed_lines(results, verbose)
    review = sorted({r.golden_run_id.partition("@")[0] for r in results if r.review})
    if review:
        lines.append(
            f"  {len(review)} golden case(s) await human review of their expectations "
            f"(exported; delete 'review:' once confirmed): {', '.join(review)}"
        )
    if any(r.stale_cassette for r in results):
        from pytest_supportbot_evals.recording.misses import grouped_lines

        lines += [f"  {line}" for line in grouped_lines(results)]
    unplayed = {r.golden_run_id: r.unplayed for r in results if r.unplayed}
    if unplayed:
        listed = ", ".join(f"{k} ({v})" for k, v in sorted(unplayed.items()))
        lines.append(f"  recorded interactions no longer played: {listed}")
    return lines


def token_lines(analysis: Analysis) -> list[str]:
    """The token figures per suite, saying so when they cover only part of the selected runs."""
    lines = tokens.summary_lines(analysis.tokens, DEFAULT_SUITE)
    return [
        line + analysis.gate.over(suite) for suite, line in zip(analysis.tokens, lines, strict=True)
    ]


#: How many ids the summary line of missed runs names (-v and the JSON report list them all).
MAX_LISTED = 20


def missed_lines(results: Sequence[CaseResult], verbose: bool) -> list[str]:
    """The golden runs that missed an expectation: ids, or (verbose) what each missed."""
    missed = [r for r in results if r.error is None and r.failed_checks()]
    if not missed:
        return []
    if verbose:
        return [
            f"  missed {r.run_id}: " + "; ".join(c.describe() for c in checks)
            for r in sorted(missed, key=lambda r: r.run_id)
            for checks in [r.failed_checks()]
        ]
    ids = sorted({r.golden_run_id for r in missed})
    shown = ", ".join(ids[:MAX_LISTED]) + (
        f", and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else ""
    )
    return [
        f"  {len(ids)} golden run(s) missed an expectation (counted by the gate; -v lists what "
        f"each missed, --evals-strict fails them): {shown}"
    ]


def markdown(analysis: Analysis, results: Sequence[CaseResult] = ()) -> str:
    """The summary as a Markdown table (GitHub job summary, PR comments), with how much of the
    classification was the model's own label."""
    lines = [
        f"### evals: {analysis.verdict.upper()}",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(analysis)]
    lines += [""] + [f"- {line}" for line in analysis.reasons() + analysis.warnings()]
    lines += [f"- {line}" for line in classification_rates.summary_lines(results)]
    lines += [f"- {line}" for line in token_lines(analysis)]
    for c in analysis.comparisons:
        if c.pass_to_fail:
            lines.append(f"- {c.evaluator} pass->fail: {', '.join(c.pass_to_fail)}")
        if c.lost:
            lines.append(f"- {c.evaluator} lost its measurement: {', '.join(c.lost)}")
    return "\n".join(lines) + "\n"


def build_report(
    analysis: Analysis,
    results: Sequence[CaseResult],
    meta: dict[str, Any],
    coverage: dict[str, Any] | None = None,
    case_hashes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON report; ``coverage`` (planned and selected runs) lets ``merge`` check shards,
    ``case_hashes`` lets it pair their goldens with a baseline."""
    gate = analysis.gate
    selected, planned = analysis.selection
    return {
        "version": REPORT_VERSION,
        "gate": analysis.verdict,
        "reasons": analysis.reasons(),
        "evaluators": {qualified(s.suite, s.evaluator): s.to_dict() for s in gate.stats},
        "errored": gate.errored,
        "missing": gate.missing,
        "complete": not gate.missing and not gate.errored and selected == planned,
        "coverage": {
            "planned_runs": planned,
            "selected_runs": selected,
            "evaluated_runs": len(results),
            **(coverage or {}),
        },
        **analysis.to_dict(),
        "classification": classification_rates.rates(results),
        "meta": meta,
        "cases": [r.to_dict() for r in sorted(results, key=lambda r: (r.case_id, r.repetition))],
        "case_hashes": case_hashes or {},
    }


def write_text(path: Path, text: str) -> None:
    """Write atomically (temp file and rename), after a secrets scan; never leaves a temp file."""
    write_atomic(path, text)


def json_text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json_text(data))
