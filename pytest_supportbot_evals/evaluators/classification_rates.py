"""How often the classifier's own label decided, fell back, or was overridden by the guardrail.

The ``category`` evaluator measures the model's own label; these rates say how much of the
routing was the model at all: a reply that did not parse took the ``faq`` fallback, and a query
naming an order id was routed to the order path whatever the model said (``route``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_supportbot_evals.run.results import DEFAULT_SUITE, CaseResult


def rates(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Per suite: classified turns, and how many the model labelled, fell back, was overridden."""
    table: dict[str, dict[str, int]] = {}
    for r in results:
        c = r.classification
        if not c or r.error is not None:
            continue
        row = table.setdefault(r.suite, {"total": 0, "llm": 0, "fallback": 0, "overridden": 0})
        row["total"] += 1
        row["fallback" if c["fallback"] else "llm"] += 1
        row["overridden"] += c["source"] not in ("llm", "fallback")  # a rule overrode it
    kinds = ("llm", "fallback", "overridden")
    return {
        suite: {**row, **{f"{k}_rate": round(row[k] / row["total"], 4) for k in kinds}}
        for suite, row in sorted(table.items())
    }


def summary_lines(results: Sequence[CaseResult]) -> list[str]:
    """``classification: llm 40/48, fallback 0/48, guardrail overrides 14/48`` per suite."""
    lines = []
    for suite, row in rates(results).items():
        name = "classification" if suite == DEFAULT_SUITE else f"{suite} classification"
        n = row["total"]
        lines.append(
            f"{name}: llm {row['llm']}/{n}, fallback {row['fallback']}/{n}, "
            f"guardrail overrides {row['overridden']}/{n}"
        )
    return lines
