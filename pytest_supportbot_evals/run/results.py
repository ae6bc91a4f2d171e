"""What running a golden case gives: per-expectation checks and the case (or turn) result.

Plain data that crosses pytest-xdist and shard reports as JSON (``to_dict``/``from_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from evals_core.judges import Verdict

#: The results of a conversation's turns are ``<golden id>#<turn>`` (``runner.turn_id``).
TURN_MARK = "#"


@dataclass(frozen=True)
class Check:
    """One expectation of a golden against what happened."""

    evaluator: str
    expected: str
    actual: str | None
    detail: str = ""
    #: A metric's value (0 to 1): the check is a measurement, never a miss.
    score: float | None = None

    @property
    def passed(self) -> bool:
        """A label matches the expectation; a metric passes whenever it measured something."""
        return self.actual == self.expected if self.score is None else self.measured

    @property
    def measured(self) -> bool:
        """False for a metric the golden expects but this run had nothing to measure (e.g. no
        retrieval): a failure scored 0, and a lost measurement against the baseline."""
        return self.score is None or self.actual is not None

    @property
    def credit(self) -> float | int:
        """What the check adds to its evaluator's passed count: 1 or 0, or a metric's value."""
        return self.score if self.score is not None else int(self.passed)

    def describe(self, detail: bool = False) -> str:
        """``category: expected faq, got order_status`` (with ``detail``: and why, if known)."""
        if not self.measured:
            return f"{self.evaluator}: {self.detail or 'nothing to measure'}"
        text = f"{self.evaluator}: expected {self.expected}, got {self.actual}"
        return text + (f" ({self.detail})" if detail and self.detail else "")


#: The suite of tests without a ``suite=`` of their own; named unqualified everywhere.
DEFAULT_SUITE = "evals"


@dataclass(frozen=True, order=True)
class ResultKey:
    """What a result is the result of: a golden, its turn (conversations), its repetition, in
    a suite. The one place its string forms are made."""

    golden: str
    turn: int | None = None
    repetition: int = 0
    suite: str = DEFAULT_SUITE

    @property
    def case_id(self) -> str:
        """``<golden>`` or, for a conversation's turn, ``<golden>#<turn>``."""
        return self.golden if self.turn is None else f"{self.golden}{TURN_MARK}{self.turn}"

    @property
    def run_id(self) -> str:
        """The case id, plus ``@N`` for repetition N > 0."""
        return self.case_id if not self.repetition else f"{self.case_id}@{self.repetition}"

    @property
    def golden_run_id(self) -> str:
        """The test id and cassette name of the golden run (turns share it)."""
        return self.golden if not self.repetition else f"{self.golden}@{self.repetition}"

    @classmethod
    def parse(cls, case_id: str, repetition: int = 0, suite: str = DEFAULT_SUITE) -> ResultKey:
        golden, _, turn = case_id.partition(TURN_MARK)
        return cls(golden, int(turn) if turn else None, repetition, suite)


def qualified(suite: str, name: str) -> str:
    """An evaluator or run id as summaries, reports and JUnit name it: ``suite:name``, or just
    ``name`` in the default suite."""
    return name if suite == DEFAULT_SUITE else f"{suite}:{name}"


@dataclass
class CaseResult:
    case_id: str
    query: str
    suite: str = DEFAULT_SUITE
    repetition: int = 0
    response: str | None = None
    category: str | None = None
    span_id: str | None = None
    trace_id: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    stale_cassette: bool = False
    #: What a cassette miss changed (``misses.summarize_miss``), to group misses that share it.
    miss: dict[str, Any] = field(default_factory=dict)
    unplayed: int = 0
    human_labels: dict[str, str] = field(default_factory=dict)
    #: Expectations of the golden a human has not confirmed yet (``review:`` in its file).
    review: list[str] = field(default_factory=list)
    #: The entries that answer the query (the golden's ``relevant_ids``): the truth for every
    #: retrieved document (ranking metrics, the relevance judge's calibration).
    relevant_ids: list[str] | None = None
    #: Tokens of the LLM replies this turn used, per step (``tokens``): ``{step: {prompt,
    #: completion, calls}}``; the judges' steps are ``judge:<evaluator>``.
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    #: How the query was classified, from the agent span: ``llm_category`` (the model's own
    #: label, "" when unusable), ``fallback`` (bool), ``source`` (``llm``, ``fallback`` or
    #: ``order_id_rule``: the guardrail overrode the model); empty for an agent that does not say.
    classification: dict[str, Any] = field(default_factory=dict)
    spans: list[Any] = field(default_factory=list, repr=False)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def key(self) -> ResultKey:
        return ResultKey.parse(self.case_id, self.repetition, self.suite)

    @classmethod
    def for_key(cls, key: ResultKey, query: str, **fields: Any) -> CaseResult:
        return cls(key.case_id, query, suite=key.suite, repetition=key.repetition, **fields)

    @property
    def run_id(self) -> str:
        return self.key.run_id

    @property
    def golden_id(self) -> str:
        """The id of the golden case this result (or turn of it) belongs to."""
        return self.key.golden

    @property
    def turn(self) -> int | None:
        """The turn number within a conversation; ``None`` for a single-query case."""
        return self.key.turn

    @property
    def golden_run_id(self) -> str:
        """The test id and cassette name of the golden run this result (or turn) belongs to."""
        return self.key.golden_run_id

    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        """The inverse of ``to_dict`` (spans excepted): results cross pytest-xdist as JSON."""
        return cls(
            case_id=data["id"],
            query=data["query"],
            suite=data["suite"],
            repetition=data["repetition"],
            response=data["response"],
            category=data["category"],
            span_id=data["span_id"],
            trace_id=data["trace_id"],
            error=data["error"],
            stale_cassette=data["stale_cassette"],
            miss=data.get("miss", {}),
            unplayed=data["unplayed"],
            human_labels=data.get("human_labels", {}),
            review=data.get("review", []),
            relevant_ids=data.get("relevant_ids"),
            tokens=data.get("tokens", {}),
            classification=data.get("classification", {}),
            verdicts=[Verdict(**v) for v in data["verdicts"]],
            checks=[
                Check(c["evaluator"], c["expected"], c["actual"], c["detail"], c.get("score"))
                for c in data["checks"]
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "suite": self.suite,
            "repetition": self.repetition,
            "query": self.query,
            "response": self.response,
            "category": self.category,
            "span_id": self.span_id,
            "trace_id": self.trace_id,
            "passed": self.passed,
            "error": self.error,
            "stale_cassette": self.stale_cassette,
            "miss": self.miss,
            "unplayed": self.unplayed,
            "human_labels": self.human_labels,
            "review": self.review,
            "relevant_ids": self.relevant_ids,
            "tokens": self.tokens,
            "classification": self.classification,
            "checks": [
                {
                    "evaluator": c.evaluator,
                    "expected": c.expected,
                    "actual": c.actual,
                    "passed": c.passed,
                    "detail": c.detail,
                    "score": c.score,
                }
                for c in self.checks
            ],
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def fold_turns(results: list[CaseResult]) -> CaseResult:
    """One result standing for a conversation's turns, for asserting (not for the gate).

    A single-turn case is returned as is. Checks keep their turn in the evaluator's name.
    """
    if len(results) == 1:
        return results[0]
    head = results[0]
    error = next((f"{r.case_id}: {r.error}" for r in results if r.error), None)
    checks = [replace(c, evaluator=f"{r.case_id} {c.evaluator}") for r in results for c in r.checks]
    return replace(head, case_id=head.golden_id, error=error, checks=checks)
