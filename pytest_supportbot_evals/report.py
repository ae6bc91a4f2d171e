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

from pytest_supportbot_evals import secrets
from pytest_supportbot_evals.gate import GateResult
from pytest_supportbot_evals.runner import CaseResult

REPORT_VERSION = 1


def summary_lines(gate: GateResult, results: Sequence[CaseResult]) -> list[str]:
    """The table printed at the end of a run, then the gate and its reasons."""
    header = ("evaluator", "passed/total", "rate", "threshold", "status")
    rows = [
        (
            s.evaluator if s.suite == "supportbot" else f"{s.suite}:{s.evaluator}",
            f"{s.passed}/{s.total}",
            "-" if s.pass_rate is None else f"{s.pass_rate:.1%}",
            "-" if s.threshold is None else f"{s.threshold:.1%}",
            s.status,
        )
        for s in gate.stats
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    lines.append(f"supportbot gate: {gate.gate.upper()} ({len(results)} case runs)")
    lines += [f"  {reason}" for reason in gate.reasons()]
    stale = sorted({r.case_id for r in results if r.stale_cassette})
    if stale:
        from pytest_supportbot_evals.cassettes import rerecord_command

        lines.append(f"  stale cassettes ({len(stale)}): {', '.join(stale)}")
        lines.append(f"  re-record them with: {rerecord_command(stale)}")
    unplayed = {r.case_id: r.unplayed for r in results if r.unplayed}
    if unplayed:
        listed = ", ".join(f"{k} ({v})" for k, v in sorted(unplayed.items()))
        lines.append(f"  recorded interactions no longer played: {listed}")
    return lines


def build_report(
    gate: GateResult, results: Sequence[CaseResult], meta: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "gate": gate.gate,
        "reasons": gate.reasons(),
        "evaluators": {
            (s.evaluator if s.suite == "supportbot" else f"{s.suite}:{s.evaluator}"): s.to_dict()
            for s in gate.stats
        },
        "errored": gate.errored,
        "meta": meta,
        "cases": [r.to_dict() for r in sorted(results, key=lambda r: (r.case_id, r.repetition))],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    secrets.ensure_clean(text, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
