"""Evaluators a team writes: a Python function (CODE) or a classification template file (LLM).

Register them with the ``pytest_evals_evaluators`` hook in a ``conftest.py``::

    from pytest_supportbot_evals import code_evaluator, llm_evaluator

    def pytest_evals_evaluators(config):
        return [
            code_evaluator("cites_policy", ("yes", "no"), cites_policy),
            llm_evaluator("answer_tone", "prompts/judge_tone.txt", {"polite": 1.0, "rude": 0.0}),
        ]

Goldens then expect them by name (``expect: {cites_policy: "yes"}``); thresholds, baseline,
calibration, reports, JUnit properties and Phoenix annotations follow with no other edit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from evals_core.judges import ClassificationJudge, Verdict
from evals_core.spans import SpanView
from pytest_supportbot_evals.evaluators.base import (
    CODE,
    LLM,
    Evaluator,
    EvaluatorError,
    TurnRun,
    first_verdict,
)

#: Span kinds an evaluator can judge (OpenInference), by the names goldens and docs use.
SPAN_KINDS = ("AGENT", "CHAIN", "LLM", "TOOL", "RETRIEVER")


def code_evaluator(
    name: str,
    labels: Sequence[str] | Mapping[str, float],
    fn: Callable[[TurnRun], str | tuple[str, str]],
    *,
    description: str = "",
) -> Evaluator:
    """A CODE evaluator: ``fn(run)`` returns one of ``labels`` (or ``(label, explanation)``)
    for each turn; the verdict is logged as an annotation on the turn's AGENT (or root) span.
    ``labels`` may map each label to a score (a plain sequence: labels without scores)."""
    scores = _scores(name, labels)

    def judge(run: TurnRun) -> list[Verdict]:
        span = run.agent_span
        try:
            said = fn(run)
            label, explanation = said if isinstance(said, tuple) else (said, "")
        except Exception as exc:  # a failing evaluator costs its verdict, not the run
            return [_failed(name, span, CODE, f"{type(exc).__name__}: {exc}")]
        if label not in scores:
            return [_failed(name, span, CODE, f"returned {label!r}, not one of {list(scores)}")]
        return [
            Verdict(name, span.span_id, span.trace_id, label, scores[label], str(explanation), CODE)
        ]

    return Evaluator(
        name,
        tuple(scores),
        first_verdict(name, "the agent made no span to judge"),
        judge=judge,
        scores=scores,
        description=description or (fn.__doc__ or "").strip().split("\n")[0],
    )


def llm_evaluator(
    name: str,
    template: str | Path,
    labels: Sequence[str] | Mapping[str, float],
    *,
    span_kind: str = "AGENT",
    span_name: str = "*",
    human_labels: bool = False,
    description: str = "",
) -> Evaluator:
    """An LLM evaluator from a phoenix-evals classification template file: the judge model
    (ini ``evals_judge_model``, default the agent's model) labels each span of
    ``span_kind`` whose name matches ``span_name``. The template's placeholders: ``{input}`` and
    ``{output}`` (the span's input and output values) and ``{documents}`` (a RETRIEVER span's
    documents). ``human_labels=True`` lets goldens give a human label to calibrate it against."""
    path = Path(template)
    if not path.is_file():
        raise EvaluatorError(f"evaluator {name!r}: template file {path} does not exist.")
    if span_kind not in SPAN_KINDS:
        raise EvaluatorError(f"evaluator {name!r}: span_kind must be one of {SPAN_KINDS}.")
    scores = _scores(name, labels)
    text = path.read_text(encoding="utf-8").strip()
    judges: dict[Any, ClassificationJudge] = {}

    def judge(run: TurnRun) -> list[Verdict]:
        if run.settings is None:
            return []
        key = (id(run.settings), run.judge_method)
        if key not in judges:
            choices = {label: (score, label) for label, score in scores.items()}
            judges[key] = ClassificationJudge(name, text, choices, run.settings, run.judge_method)
        return [
            judges[key].judge(span, _variables(span), run.seed)
            for span in run.spans_of(span_kind, span_name)
        ]

    where = f"{span_kind} span" + (f" named {span_name!r}" if span_name != "*" else "")
    return Evaluator(
        name,
        tuple(scores),
        first_verdict(name, f"no {where} in the trace"),
        judge=judge,
        kind=LLM,
        human_labels=tuple(scores) if human_labels else (),
        template=path.resolve(),
        scores=scores,
        description=description or f"LLM judge ({path.name}) on the {where}",
    )


def _variables(span: SpanView) -> dict[str, str]:
    return {
        "input": str(span.get("input.value", "")),
        "output": str(span.get("output.value", "")),
        "documents": "\n\n".join(str(d["content"]) for d in span.documents),
    }


def _scores(name: str, labels: Sequence[str] | Mapping[str, float]) -> dict[str, float | None]:
    scores: dict[str, float | None]
    if isinstance(labels, Mapping):
        scores = {str(k): float(v) for k, v in labels.items()}
    else:
        scores = dict.fromkeys(map(str, labels))
    if len(scores) < 2 or isinstance(labels, str):
        raise EvaluatorError(
            f"evaluator {name!r}: give at least two labels, e.g. ('yes', 'no') or "
            "{'yes': 1.0, 'no': 0.0}."
        )
    return scores


def _failed(name: str, span: SpanView, kind: str, error: str) -> Verdict:
    return Verdict(name, span.span_id, span.trace_id, None, None, "", kind, error=error[:300])
