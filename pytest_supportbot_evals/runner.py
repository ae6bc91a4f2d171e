"""Run one golden case: the traced agent, then the judges on its child spans, then the checks.

Plain code, no pytest: the plugin's fixtures, the recorder and the benchmark all call this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_supportbot_evals import health
from pytest_supportbot_evals.cassettes import (
    CassetteError,
    CassetteUse,
    use_cassette,
)
from pytest_supportbot_evals.goldens import GoldenCase, GoldenTurn
from pytest_supportbot_evals.misses import explain_miss
from pytest_supportbot_evals.results import DEFAULT_SUITE, TURN_MARK, CaseResult, Check, fold_turns
from supportbot.judges import RETRIEVAL_RELEVANCE, TOOL_RESULT, Judge, Verdict, judge_spans
from supportbot.spans import SpanView

#: The evaluators a golden can set expectations for (see ``goldens.EXPECTATIONS``).
#: ``retrieval_hit`` is a code check: the golden's ``faq_id`` is among the retrieved documents.
EVALUATORS = ("category", "order_lookup", "retrieval_hit", "tool_result", "retrieval_relevance")
__all__ = ["EVALUATORS", "CaseResult", "Check", "fold_turns", "result_ids", "run_golden"]


def cassette_path(folder: Path, case: GoldenCase) -> Path:
    """One cassette per golden case and repetition: ``<id>.yaml``, ``<id>@2.yaml``, ..."""
    return folder / f"{case.run_id}.yaml"


def turn_id(case: GoldenCase, turn: int) -> str:
    """A result's id: the golden id, or ``<id>#<turn>`` for each turn of a conversation."""
    return f"{case.id}{TURN_MARK}{turn}" if case.is_conversation else case.id


def result_ids(case: GoldenCase) -> list[str]:
    """The ids of the results a golden run gives (``CaseResult.run_id``): one per turn."""
    suffix = f"@{case.repetition}" if case.repetition else ""
    return [f"{turn_id(case, n)}{suffix}" for n in range(1, len(case.turns) + 1)]


def run_golden(
    bot: Any,
    exporter: Any,
    relevance: Judge | None,
    case: GoldenCase,
    cassette: Path,
    record_mode: str,
    *,
    suite: str = DEFAULT_SUITE,
) -> list[CaseResult]:
    """Replay (or record) one golden case from its cassette and check its expectations.

    A conversation runs its turns in order in one session (so the bot sees the earlier turns),
    all from one cassette, and gives one result per turn. Repetition N > 0 runs with seed
    ``settings.seed + N``, so that it samples the model (and the judge) anew; its requests
    differ, so it has its own cassette.
    """
    results = [
        CaseResult(
            turn_id(case, n),
            turn.query,
            suite=suite,
            repetition=case.repetition,
            human_labels=dict(turn.human_label),
            review=list(case.review),
        )
        for n, turn in enumerate(case.turns, start=1)
    ]
    seed = None
    if case.repetition:
        seed = getattr(getattr(bot, "settings", None), "seed", 0) + case.repetition
    session_id = f"golden-{case.run_id}" if case.is_conversation else None
    if session_id:
        getattr(bot, "conversations", {}).pop(session_id, None)  # a rerun starts afresh
    views: list[list[SpanView]] = []
    exporter.clear()
    try:
        with use_cassette(cassette, record_mode) as use:
            for result in results:
                failed = next((r for r in results[: len(views)] if r.error), None)
                if failed is not None:
                    result.error = f"Not run: an earlier turn ({failed.case_id}) failed."
                    views.append([])
                    continue
                views.append(_run_turn(bot, exporter, relevance, result, seed, session_id))
            if record_mode != "none":
                _keep_only_good_recordings(use, results, cassette, case.run_id)
    except CassetteError as exc:  # unreadable cassette: every turn errors, named in the gate
        exporter.clear()
        for result in results:
            result.error = str(exc)
        return results
    exporter.clear()
    for n, (turn, result, spans) in enumerate(zip(case.turns, results, views, strict=True)):
        result.unplayed = use.unplayed if n == 0 else 0
        if use.misses:
            result.stale_cassette = True
            result.error = explain_miss(use, case.run_id)
        elif result.error is None:
            result.checks = expectation_checks(turn, result.category, spans, result.verdicts)
            result.classification = classification_of(_agent_span(spans))
    return results


def _keep_only_good_recordings(
    use: CassetteUse, results: list[CaseResult], path: Path, run_id: str
) -> None:
    """A recording where a turn failed, the judge's server failed or a reply is unusable (see
    ``health``) is discarded (not written)."""
    failed_calls = [
        v.error for r in results for v in r.verdicts if v.error and _is_transport(v.error)
    ]
    first_error = next((r.error for r in results if r.error), None)
    if not (first_error or failed_calls):
        first_error = unusable_reply(use, run_id)
    if first_error or failed_calls:
        use.discard = True
        for result in results:
            result.error = (
                f"{first_error or 'The judge call failed: ' + str(failed_calls[0])}\n"
                f"Nothing was written: {path} keeps its previous recording."
            )


def _run_turn(
    bot: Any,
    exporter: Any,
    relevance: Judge | None,
    result: CaseResult,
    seed: int | None,
    session_id: str | None,
) -> list[SpanView]:
    """Run the agent on one query, judge its child spans; fill ``result``, return its spans."""
    kwargs: dict[str, Any] = {"seed": seed} if seed is not None else {}
    if session_id:
        kwargs["session_id"] = session_id
    try:
        answer = bot.handle(result.query, **kwargs)
        result.response, result.category = answer.response, answer.category
        result.span_id, result.trace_id = answer.span_id, answer.trace_id
    except Exception as exc:
        result.error = f"The agent failed: {type(exc).__name__}: {exc}"[:2000]
    result.spans = list(exporter.get_finished_spans())
    exporter.clear()
    views = [SpanView.from_otel(span) for span in result.spans]
    if result.error is None:
        result.verdicts = judge_spans(views, relevance, seed)
    return views


def unusable_reply(use: CassetteUse, run_id: str) -> str | None:
    """Why this recording must not be written (a reply that is unusable), or ``None``."""
    problems = health.check(use.recorded()).problems
    if not problems:
        return None
    listed = "; ".join(f"{p.step}: {p.reason}" for p in problems[:3])
    return f"Not recorded: golden {run_id!r} got unusable replies ({listed})."


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
    case: GoldenCase | GoldenTurn,
    category: str | None,
    spans: list[SpanView],
    verdicts: list[Verdict],
) -> list[Check]:
    checks = []
    tool = next((s for s in spans if s.kind == "TOOL" and s.name == "lookupOrderStatus"), None)
    for evaluator, expected in case.expect.items():
        if evaluator == "category":
            checks.append(_category_check(expected, category, _agent_span(spans)))
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


def _agent_span(spans: list[SpanView]) -> SpanView:
    return next((s for s in spans if s.kind == "AGENT"), SpanView("", "", "", "", ""))


def classification_of(agent: SpanView) -> dict[str, Any]:
    """What the agent span says of its classification (empty if it says nothing)."""
    if agent.get("classification.source") is None:
        return {}
    return {
        "llm_category": agent.get("classification.llm_category") or "",
        "fallback": bool(agent.get("classification.fallback")),
        "source": agent.get("classification.source"),
    }


def _category_check(expected: str, routed: str | None, agent: SpanView) -> Check:
    """The model's own label, not the route: a fallback (unusable reply) is a miss, and a
    guardrail override does not turn the model's wrong label into a pass. An agent whose span
    does not say (``classification.source`` unset) is checked on its route."""
    source = agent.get("classification.source")
    if source is None:
        return Check("category", expected, routed)
    label = agent.get("classification.llm_category") or "fallback"
    detail = f"the model said {label}; routed to {routed} ({source})"
    return Check("category", expected, label, detail)


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
