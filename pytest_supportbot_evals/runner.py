"""Run one golden case: the traced agent, then the judges on its child spans, then the checks.

Plain code, no pytest: the plugin's fixtures, the recorder and the benchmark all call this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.cassettes import explain_miss, use_cassette
from pytest_supportbot_evals.goldens import GoldenCase
from supportbot.judges import RETRIEVAL_RELEVANCE, TOOL_RESULT, Judge, Verdict, judge_spans
from supportbot.spans import SpanView

#: The evaluators a golden can set expectations for (see ``goldens.EXPECTATIONS``).
#: ``retrieval_hit`` is a code check: the golden's ``faq_id`` is among the retrieved documents.
EVALUATORS = ("category", "order_lookup", "retrieval_hit", "tool_result", "retrieval_relevance")


@dataclass(frozen=True)
class Check:
    """One expectation of a golden against what happened."""

    evaluator: str
    expected: str
    actual: str | None
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.actual == self.expected


@dataclass
class CaseResult:
    case_id: str
    query: str
    suite: str = "supportbot"
    repetition: int = 0
    response: str | None = None
    category: str | None = None
    span_id: str | None = None
    trace_id: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    stale_cassette: bool = False
    unplayed: int = 0
    human_labels: dict[str, str] = field(default_factory=dict)
    spans: list[Any] = field(default_factory=list, repr=False)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def run_id(self) -> str:
        return self.case_id if self.repetition == 0 else f"{self.case_id}@{self.repetition}"

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
            unplayed=data["unplayed"],
            human_labels=data.get("human_labels", {}),
            verdicts=[Verdict(**v) for v in data["verdicts"]],
            checks=[
                Check(c["evaluator"], c["expected"], c["actual"], c["detail"])
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
            "unplayed": self.unplayed,
            "human_labels": self.human_labels,
            "checks": [
                {
                    "evaluator": c.evaluator,
                    "expected": c.expected,
                    "actual": c.actual,
                    "passed": c.passed,
                    "detail": c.detail,
                }
                for c in self.checks
            ],
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def cassette_path(folder: Path, case: GoldenCase) -> Path:
    """One cassette per golden case and repetition: ``<id>.yaml``, ``<id>@2.yaml``, ..."""
    return folder / f"{case.run_id}.yaml"


def run_case(
    bot: Any,
    exporter: Any,
    relevance: Judge | None,
    case: GoldenCase,
    cassette: Path,
    record_mode: str,
    *,
    suite: str = "supportbot",
) -> CaseResult:
    """Replay (or record) one golden case from its cassette and check its expectations.

    Repetition N > 0 runs with seed ``settings.seed + N``, so that it samples the model (and
    the judge) anew; its requests differ, so it has its own cassette.
    """
    result = CaseResult(
        case.id,
        case.query,
        suite=suite,
        repetition=case.repetition,
        human_labels=dict(case.human_label),
    )
    seed = None
    if case.repetition:
        seed = getattr(getattr(bot, "settings", None), "seed", 0) + case.repetition
    exporter.clear()
    with use_cassette(cassette, record_mode) as use:
        try:
            answer = bot.handle(case.query) if seed is None else bot.handle(case.query, seed=seed)
            result.response, result.category = answer.response, answer.category
            result.span_id, result.trace_id = answer.span_id, answer.trace_id
        except Exception as exc:
            result.error = f"The agent failed: {type(exc).__name__}: {exc}"[:2000]
        result.spans = list(exporter.get_finished_spans())
        views = [SpanView.from_otel(span) for span in result.spans]
        if result.error is None:
            result.verdicts = judge_spans(views, relevance, seed)
        failed_calls = [v.error for v in result.verdicts if v.error and _is_transport(v.error)]
        if record_mode != "none" and (result.error or failed_calls):
            use.discard = True
            result.error = (
                f"{result.error or 'The judge call failed: ' + str(failed_calls[0])}\n"
                f"Nothing was written: {cassette} keeps its previous recording."
            )
    exporter.clear()
    result.unplayed = use.unplayed
    if use.misses:
        result.stale_cassette = True
        result.error = explain_miss(use, case.run_id)
        return result
    if result.error is None:
        result.checks = expectation_checks(case, result.category, views, result.verdicts)
    return result


#: Judge errors that mean the server failed (not that the model's reply was unusable).
_TRANSPORT_ERRORS = (
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "InternalServerError",
    "RateLimitError",
    "BadRequestError",
    "NotFoundError",
)


def _is_transport(error: str) -> bool:
    return error.split(":", 1)[0] in _TRANSPORT_ERRORS or "ValueError: OpenAI model" in error


def expectation_checks(
    case: GoldenCase, category: str | None, spans: list[SpanView], verdicts: list[Verdict]
) -> list[Check]:
    checks = []
    tool = next((s for s in spans if s.kind == "TOOL" and s.name == "lookupOrderStatus"), None)
    for evaluator, expected in case.expect.items():
        if evaluator == "category":
            checks.append(Check("category", expected, category))
        elif evaluator == "order_lookup":
            checks.append(Check("order_lookup", expected, _lookup_outcome(category, tool)))
        elif evaluator in (TOOL_RESULT, RETRIEVAL_RELEVANCE):
            checks.append(_verdict_check(evaluator, expected, verdicts, category))
    if case.faq_id:
        retriever = next((s for s in spans if s.kind == "RETRIEVER"), None)
        retrieved = [doc["id"] for doc in retriever.documents] if retriever else []
        actual = ("hit" if case.faq_id in retrieved else "miss") if retriever else "not_retrieved"
        checks.append(Check("retrieval_hit", "hit", actual, f"retrieved {retrieved}"))
    return checks


def _lookup_outcome(category: str | None, tool: SpanView | None) -> str:
    if tool is not None:
        return "not_found" if tool.status_code == "ERROR" else "found"
    return "no_order_id" if category == "order_status" else "not_attempted"


def _verdict_check(
    judge: str, expected: str, verdicts: list[Verdict], category: str | None
) -> Check:
    verdict = next((v for v in verdicts if v.judge == judge), None)
    if verdict is None:
        span = "lookupOrderStatus" if judge == TOOL_RESULT else "faq-retrieval"
        return Check(judge, expected, None, f"no {span} span: the agent took the {category} path")
    if verdict.error:
        return Check(judge, expected, None, f"the judge failed: {verdict.error}")
    return Check(judge, expected, verdict.label, verdict.explanation[:300])
