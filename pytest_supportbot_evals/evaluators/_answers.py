"""The built-in evaluators of the answer text, for any agent:

* ``answer_grounded`` (CODE): the answer against what the turn's own spans found (the TOOL spans'
  output, the retrieved documents): ``grounded``, ``contradicts`` or ``unsupported`` (the rule:
  ``answer_checks``). Checked on every golden turn with a TOOL or RETRIEVER span; a turn with
  neither has nothing to check it against and is not checked (a golden that names it in
  ``expect:`` is then missed). Its verdict is annotated on the AGENT span.
* ``answer_contains`` / ``answer_matches``: the golden's own ``answer_contains`` (strings, all
  of them, case-insensitive) and ``answer_matches`` (a regular expression, searched
  case-insensitively); checked where the golden gives them.
"""

from __future__ import annotations

import re
from typing import Any

from evals_core.judges import Verdict
from pytest_supportbot_evals.evaluators import _answer_checks as answer_checks
from pytest_supportbot_evals.evaluators.base import Evaluator, Outcome, TurnRun

ANSWER_GROUNDED = "answer_grounded"
ANSWER_CONTAINS, ANSWER_MATCHES = "answer_contains", "answer_matches"
SCORES = {
    answer_checks.GROUNDED: 1.0,
    answer_checks.CONTRADICTS: 0.0,
    answer_checks.UNSUPPORTED: 0.0,
}


def answer_evaluators(tool_spans: str = "*") -> list[Evaluator]:
    named = "" if tool_spans == "*" else f" named {tool_spans!r}"

    def judge(run: TurnRun) -> list[Verdict]:
        evidence = answer_checks.evidence_of(run.spans, tool_spans)
        found = answer_checks.check(run.query, run.answer or "", evidence)
        if found is None:
            return []
        label, explanation = found
        span = run.agent_span
        return [
            Verdict(
                ANSWER_GROUNDED,
                span.span_id,
                span.trace_id,
                label,
                SCORES[label],
                explanation[:500],
                "CODE",
            )
        ]

    def grounded(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
        verdict = next((v for v in verdicts if v.judge == ANSWER_GROUNDED), None)
        if verdict is None:
            missing = f"nothing to check the answer against: no TOOL span{named}, no RETRIEVER span"
            return Outcome(None, missing, applies=False)
        return Outcome(verdict.label, verdict.explanation)

    return [
        Evaluator(
            ANSWER_GROUNDED,
            answer_checks.LABELS,
            grounded,
            judge=judge,
            implied=lambda golden: answer_checks.GROUNDED,
            scores=SCORES,
            description=f"the answer states what the TOOL spans{named} or documents found",
        ),
        _pinned(ANSWER_CONTAINS, ("contains", "missing"), _contains, "contains each string"),
        _pinned(ANSWER_MATCHES, ("matches", "no_match"), _matches, "matches the regex"),
    ]


def _pinned(name: str, labels: tuple[str, str], outcome: Any, does: str) -> Evaluator:
    """An evaluator of the golden field of its own name, checked where the golden gives it."""
    return Evaluator(
        name,
        labels,
        outcome,
        implied=lambda golden: labels[0] if getattr(golden, name, None) else None,
        description=f"the answer {does} of the golden's {name}",
        in_expect=False,
    )


def _contains(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
    wanted = getattr(run.golden, "answer_contains", None) or ()
    answer = (run.answer or "").casefold()
    missing = [w for w in wanted if w.casefold() not in answer]
    if missing:
        return Outcome("missing", f"the answer lacks {', '.join(map(repr, missing))}")
    return Outcome("contains", f"the answer contains {', '.join(map(repr, wanted))}")


def _matches(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
    pattern = getattr(run.golden, "answer_matches", None) or ""
    if re.search(pattern, run.answer or "", re.IGNORECASE):
        return Outcome("matches", f"the answer matches {pattern!r}")
    return Outcome("no_match", f"the answer does not match {pattern!r}")
