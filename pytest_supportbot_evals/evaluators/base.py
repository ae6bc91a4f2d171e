"""The evaluators: one registry of what a golden can expect and how each expectation is checked.

An evaluator has a name (what goldens, thresholds, baselines, reports, JUnit properties and
Phoenix annotations call it), the labels an expectation may take, and up to two parts:

* ``judge``: verdicts on the turn's spans (a label and score per span), logged to Phoenix as span
  annotations named after the evaluator; the check reads the first verdict by default;
* ``outcome``: the label the check compares with the golden's expectation, read from the turn
  (the answer, its label, its spans, the verdicts).

Everything else (golden validation, thresholds, baseline, calibration, reports, annotations)
follows the registry, so adding an evaluator is one registration (see ``user_evaluators`` and the
``pytest_evals_evaluators`` hook).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals_core.judges import Verdict
from evals_core.spans import SpanView
from pytest_supportbot_evals.run import steps
from pytest_supportbot_evals.run.results import Check

#: Annotator kinds, as Phoenix names them.
CODE, LLM = "CODE", "LLM"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class EvaluatorError(ValueError):
    """An evaluator registration is not valid; the message names it and the fix."""


@dataclass(frozen=True)
class TurnRun:
    """What one query (one turn of a golden) gave, as evaluators see it."""

    query: str
    #: The agent's answer text, and the label it gave (``None`` when it gives none).
    answer: str | None
    label: str | None
    spans: Sequence[SpanView]
    #: The golden turn's fields (``expect``, ``relevant_ids``, ``human_label``, ...).
    golden: Any = None
    #: The seed of this run's LLM calls (``None``: the agent's own; set for repetitions).
    seed: int | None = None
    #: Judges the run was given (fixture overrides), by evaluator name.
    judges: Mapping[str, Callable[..., Verdict]] = field(default_factory=dict)
    #: The judge model's settings (``Settings``) and structured-output method, for LLM
    #: evaluators; ``None``: no LLM judging in this run.
    settings: Any = None
    judge_method: str = "auto"

    @property
    def agent_span(self) -> SpanView:
        """The AGENT span (else the root span) of the turn; an empty view when there is none."""
        agent = next((s for s in self.spans if s.kind == "AGENT"), None)
        root = next((s for s in self.spans if s.parent_id is None), None)
        return agent or root or SpanView("", "", "", "", "")

    def spans_of(self, kind: str, name: str = "*") -> list[SpanView]:
        """Spans of one OpenInference kind whose name matches a glob pattern."""
        return [s for s in self.spans if s.kind == kind and fnmatch.fnmatchcase(s.name, name)]


@dataclass(frozen=True)
class Outcome:
    """What an evaluator found for one turn: the label (``None``: could not tell) and why."""

    actual: str | None
    detail: str = ""
    #: A metric's value (0 to 1); ``None`` for a label.
    score: float | None = None
    #: ``False``: the turn gives the evaluator nothing to check (e.g. no evidence to check an
    #: answer against); an implied expectation is then not checked, a named one is missed.
    applies: bool = True


def first_verdict(name: str, missing: str) -> Callable[[TurnRun, list[Verdict]], Outcome]:
    """The usual outcome of a judging evaluator: its first verdict's label; ``missing`` says why
    there is none (e.g. which span it looked for)."""

    def outcome(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
        verdict = next(
            (v for v in verdicts if v.judge == name and v.document_position is None), None
        )
        if verdict is None:
            return Outcome(None, missing)
        if verdict.error:
            return Outcome(None, f"the judge failed: {verdict.error}")
        return Outcome(verdict.label, verdict.explanation[:300])

    return outcome


@dataclass(frozen=True)
class Evaluator:
    """One evaluator of the registry (see the module docstring)."""

    name: str
    #: The labels an expectation may take; empty: any label (checked against the suite's
    #: declared label vocabulary instead, as the built-in ``category`` is).
    labels: tuple[str, ...]
    outcome: Callable[[TurnRun, list[Verdict]], Outcome]
    judge: Callable[[TurnRun], list[Verdict]] | None = None
    kind: str = CODE
    #: Labels a golden's ``human_label`` may give for this evaluator (the judge is calibrated
    #: against them); empty: it takes no human label.
    human_labels: tuple[str, ...] = ()
    #: An expectation the golden implies without naming it (``retrieval_hit`` from
    #: ``relevant_ids``); ``None``: only what the golden's ``expect`` names.
    implied: Callable[[Any], str | None] | None = None
    #: The prompt template of an LLM evaluator (a cassette miss of its requests names it).
    template: Path | None = None
    #: The score of each label in Phoenix annotations (``None``: labels without scores).
    scores: Mapping[str, float | None] | None = None
    #: A metric (``ranking``): its check is a measurement (never a miss), checked wherever its
    #: outcome has a score; the suite's figure is the mean score.
    metric: bool = False
    description: str = ""
    #: ``False``: goldens expect it through a field of their own (``answer_contains``), not
    #: in ``expect:``.
    in_expect: bool = True

    def __post_init__(self) -> None:
        if not self.name or not set(self.name) <= NAME_CHARS or not self.name[0].isalpha():
            raise EvaluatorError(
                f"evaluator name {self.name!r}: use lowercase letters, digits and underscores, "
                "starting with a letter (it names annotations, thresholds and JUnit properties)."
            )
        if self.kind not in (CODE, LLM):
            raise EvaluatorError(f"evaluator {self.name!r}: kind must be {CODE!r} or {LLM!r}.")


class Registry:
    """The evaluators of a run, in report order; names are unique."""

    def __init__(self, evaluators: Iterable[Evaluator]) -> None:
        self._by_name: dict[str, Evaluator] = {}
        for evaluator in evaluators:
            self.add(evaluator)

    def add(self, evaluator: Evaluator) -> None:
        if not isinstance(evaluator, Evaluator):
            raise EvaluatorError(
                f"{evaluator!r} is not an Evaluator; build one with "
                "pytest_supportbot_evals.code_evaluator() or llm_evaluator()."
            )
        if evaluator.name in self._by_name:
            raise EvaluatorError(
                f"evaluator {evaluator.name!r} is registered twice; give one of them another name."
            )
        self._by_name[evaluator.name] = evaluator

    def __iter__(self) -> Iterator[Evaluator]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Evaluator:
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def order(self, name: str) -> int:
        """Where an evaluator comes in reports (unknown names last)."""
        names = self.names
        return names.index(name) if name in names else len(names)

    @property
    def human_labels(self) -> dict[str, tuple[str, ...]]:
        """Evaluator name -> the labels a golden's ``human_label`` may give it."""
        return {e.name: e.human_labels for e in self if e.human_labels}

    def annotation_configs(self) -> list[dict[str, Any]]:
        """Phoenix annotation configs for the verdicts the evaluators log (those with a judge)."""
        from phoenix_delivery.annotation_configs import categorical

        return [
            categorical(e.name, e.description, e.scores or dict.fromkeys(e.labels))
            for e in self
            if e.judge is not None
        ]

    def judge(self, run: TurnRun) -> list[Verdict]:
        """Every evaluator's verdicts on the turn's spans, in registry order."""
        verdicts = []
        for evaluator in self:
            if evaluator.judge is not None:
                with steps.naming(steps.judge_step(evaluator.name)):
                    verdicts += evaluator.judge(run)
        return verdicts

    def checks(
        self, run: TurnRun, expect: Mapping[str, str], verdicts: list[Verdict]
    ) -> list[Check]:
        """One check per expectation the golden names or implies, in registry order."""
        checks = []
        for evaluator in self:
            expected = expect.get(evaluator.name)
            implied = expected is None
            if implied and evaluator.implied is not None:
                expected = evaluator.implied(run.golden)
            if expected is None:
                continue
            found = evaluator.outcome(run, verdicts)
            if (evaluator.metric and found.score is None) or (implied and not found.applies):
                continue  # nothing to measure in this turn
            checks.append(Check(evaluator.name, expected, found.actual, found.detail, found.score))
        return checks
