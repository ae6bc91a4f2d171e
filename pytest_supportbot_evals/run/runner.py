"""Run one golden case: the traced agent, then the judges on its child spans, then the checks.

Plain code, no pytest: the plugin's fixtures, the recorder and the benchmark all call this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals_core.judges import Judge
from evals_core.spans import SpanView
from pytest_supportbot_evals.config.contract import AgentSpec, call, missing_keywords
from pytest_supportbot_evals.evaluators.base import Registry, TurnRun
from pytest_supportbot_evals.recording import health
from pytest_supportbot_evals.recording.cassettes import (
    CassetteError,
    CassetteUse,
    use_cassette,
)
from pytest_supportbot_evals.recording.misses import explain_miss, summarize_miss
from pytest_supportbot_evals.run import steps
from pytest_supportbot_evals.run.goldens import GoldenCase, GoldenTurn
from pytest_supportbot_evals.run.results import (
    DEFAULT_SUITE,
    CaseResult,
    Check,
    ResultKey,
    fold_turns,
)
from pytest_supportbot_evals.run.timeouts import GoldenTimeout, time_limit
from pytest_supportbot_evals.verdict.tokens import UsageMeter

__all__ = ["CaseResult", "Check", "Runner", "fold_turns", "result_ids", "run_golden"]


@dataclass(frozen=True)
class Runner:
    """What running goldens needs: the agent, where its spans go, the evaluators and judges."""

    agent: AgentSpec
    #: The in-memory exporter of the plugin's tracer provider (the agent's spans land there).
    exporter: Any
    registry: Registry
    #: Judges given by fixtures, by evaluator name (``retrieval_relevance``).
    judges: Mapping[str, Judge] = field(default_factory=dict)
    #: The judge model's settings (``Settings``; LLM evaluators) and their base seed.
    settings: Any = None
    judge_method: str = "auto"
    #: Seconds one golden (all its turns) may take; ``None``: no limit.
    timeout: float | None = None

    def prompt_file(self, step: str) -> Path | None:
        """The prompt file behind a step's request: a judge's template, or the agent's."""
        judge = steps.judged_by(step)
        if judge is not None:
            return self.registry[judge].template if judge in self.registry else None
        return self.agent.prompt_file(step)


def cassette_path(folder: Path, case: GoldenCase) -> Path:
    """One cassette per golden case and repetition: ``<id>.yaml``, ``<id>@2.yaml``, ..."""
    return folder / f"{case.run_id}.yaml"


def result_keys(case: GoldenCase, suite: str = DEFAULT_SUITE) -> list[ResultKey]:
    """The keys of the results a golden run gives: one per turn."""
    turns = len(case.turns)
    return [
        ResultKey(case.id, n if case.is_conversation else None, case.repetition, suite)
        for n in range(1, turns + 1)
    ]


def result_ids(case: GoldenCase) -> list[str]:
    """The ids of the results a golden run gives (``CaseResult.run_id``): one per turn."""
    return [key.run_id for key in result_keys(case)]


def run_golden(
    runner: Runner,
    case: GoldenCase,
    cassette: Path,
    record_mode: str,
    *,
    suite: str = DEFAULT_SUITE,
) -> list[CaseResult]:
    """Replay (or record) one golden case from its cassette and check its expectations.

    A conversation runs its turns in order in one session (so the agent sees the earlier
    turns), all from one cassette, and gives one result per turn. Repetition N > 0 runs with
    seed ``settings.seed + N``, so that it samples the model (and the judge) anew; its requests
    differ, so it has its own cassette.
    """
    results = [
        CaseResult.for_key(
            key,
            turn.query,
            human_labels=dict(turn.human_label),
            review=list(case.review),
            relevant_ids=None if turn.relevant_ids is None else list(turn.relevant_ids),
        )
        for key, turn in zip(result_keys(case, suite), case.turns, strict=True)
    ]
    seed = None
    if case.repetition:
        seed = getattr(runner.settings, "seed", 0) + case.repetition
    session_id = f"golden-{case.run_id}" if case.is_conversation else None
    history = [{"role": r, "content": c} for r, c in case.history] or None
    missing = missing_keywords(
        runner.agent.agent, bool(session_id), seed is not None, bool(history)
    )
    if missing:
        why = "a conversation golden" if "session_id" in missing else "--evals-repeat"
        why = "a golden with a given history" if "history" in missing else why
        for result in results:
            result.error = (
                f"The agent does not take {' or '.join(f'{m}=' for m in missing)}, which {why} "
                "needs; add the keyword to the agent (see docs/contract.md)."
            )
        return results
    if session_id and runner.agent.reset is not None:
        runner.agent.reset(session_id)  # a rerun starts afresh
    views: list[list[SpanView]] = []
    runner.exporter.clear()
    try:
        with (
            time_limit(runner.timeout, f"golden {case.run_id}"),
            use_cassette(cassette, record_mode) as use,
        ):
            meter = UsageMeter(use)
            for turn, result in zip(case.turns, results, strict=True):
                failed = next((r for r in results[: len(views)] if r.error), None)
                if failed is not None:
                    result.error = f"Not run: an earlier turn ({failed.case_id}) failed."
                    views.append([])
                    continue
                given = history if not views else None  # the history precedes the first turn
                views.append(_run_turn(runner, turn, result, seed, session_id, given))
                result.tokens = meter.take()
            if record_mode != "none":
                _keep_only_good_recordings(use, results, cassette, case.run_id)
    except (CassetteError, GoldenTimeout) as exc:  # every turn errors, named in the gate
        runner.exporter.clear()
        for result in results:
            result.error = str(exc)
        return results
    runner.exporter.clear()
    for n, result in enumerate(results):
        result.unplayed = use.unplayed if n == 0 else 0
        if use.misses:
            result.stale_cassette, result.checks = True, []
            result.error = explain_miss(use, case.run_id, runner.prompt_file)
            result.miss = summarize_miss(use, runner.prompt_file)
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
    runner: Runner,
    turn: GoldenTurn,
    result: CaseResult,
    seed: int | None,
    session_id: str | None,
    history: list[dict[str, str]] | None = None,
) -> list[SpanView]:
    """Run the agent on one query, judge its spans, check the expectations; fill ``result``."""
    try:
        answer = call(runner.agent.agent, result.query, session_id, seed, history)
        result.response, result.category = answer.response, answer.label
    except Exception as exc:
        result.error = f"The agent failed: {type(exc).__name__}: {exc}"[:2000]
    result.spans = list(runner.exporter.get_finished_spans())
    runner.exporter.clear()
    views = [SpanView.from_otel(span) for span in result.spans]
    if result.error is not None:
        return views
    run = TurnRun(
        result.query,
        result.response,
        result.category,
        views,
        golden=turn,
        seed=seed,
        judges=runner.judges,
        settings=runner.settings,
        judge_method=runner.judge_method,
    )
    result.span_id = run.agent_span.span_id or None
    result.trace_id = run.agent_span.trace_id or None
    result.verdicts = runner.registry.judge(run)
    result.checks = runner.registry.checks(run, turn.expect, result.verdicts)
    result.classification = classification_of(run.agent_span)
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


def classification_of(agent: SpanView) -> dict[str, Any]:
    """What the agent span says of its classification (empty if it says nothing)."""
    if agent.get("classification.source") is None:
        return {}
    return {
        "llm_category": agent.get("classification.llm_category") or "",
        "fallback": bool(agent.get("classification.fallback")),
        "source": agent.get("classification.source"),
    }
