"""The fixtures of pytest-supportbot-evals. Every one can be overridden at any scope, in the style
of pytest-recording: e.g. a ``supportbot_agent`` fixture in your conftest.py runs your own agent
under the same gate (the usual way is ini ``evals_agent``; see ``contract``). Nothing heavy is
imported until a test asks for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_supportbot_evals.run.state import MARKER, MISSED, eval_session, suite_of

if TYPE_CHECKING:
    from pytest_supportbot_evals.config.eval_config import EvalConfig
    from pytest_supportbot_evals.run.goldens import GoldenCase
    from pytest_supportbot_evals.run.runner import CaseResult
    from pytest_supportbot_evals.run.session import EvalSession


@pytest.fixture(scope="session")
def supportbot_config(pytestconfig: pytest.Config) -> EvalConfig:
    """The frozen plugin configuration (options, ini, env)."""
    return eval_session(pytestconfig).config


@pytest.fixture(scope="session")
def supportbot_collector(pytestconfig: pytest.Config) -> EvalSession:
    """The session's collector of case results; the gate is computed from it at the end."""
    return eval_session(pytestconfig)


@pytest.fixture(scope="session")
def supportbot_tracing(supportbot_config: EvalConfig) -> tuple[Any, Any]:
    """(tracer provider, in-memory exporter): spans stay in memory during the run."""
    from evals_core.tracing import memory_provider

    return memory_provider(supportbot_config.settings.phoenix_project)


@pytest.fixture(scope="session")
def supportbot_bot(supportbot_config: EvalConfig, supportbot_tracing: tuple[Any, Any]) -> Any:
    """SupportBot, the reference agent (used when no agent is configured)."""
    from pytest_supportbot_evals.run.reference import make_bot

    return make_bot(supportbot_config.settings, supportbot_tracing[0])


@pytest.fixture(scope="session")
def supportbot_agent(
    request: pytest.FixtureRequest, supportbot_config: EvalConfig, supportbot_tracing: Any
) -> Any:
    """The agent under the gate (``contract``): ini ``evals_agent``'s factory, called with the
    plugin's tracer provider; SupportBot when unset. Override to build it yourself."""
    from pytest_supportbot_evals.config.contract import build_agent, load_factory
    from pytest_supportbot_evals.run.reference import supportbot_agent

    agent = supportbot_config.agent
    if agent is None or agent.factory is None:
        return supportbot_agent(request.getfixturevalue("supportbot_bot"))
    factory = load_factory(agent.factory, "ini evals_agent")
    return build_agent(factory, supportbot_tracing[0])


@pytest.fixture(scope="session")
def supportbot_relevance_judge(supportbot_config: EvalConfig) -> Any:
    """The retrieval_relevance LLM judge (phoenix-evals); override to swap the judge."""
    from evals_core.judges import RetrievalRelevanceJudge

    return RetrievalRelevanceJudge(supportbot_config.settings, supportbot_config.judge_method)


@pytest.fixture(scope="session")
def supportbot_record_mode(supportbot_config: EvalConfig) -> str:
    return supportbot_config.record_mode


@pytest.fixture
def supportbot_cassette_dir(request: pytest.FixtureRequest, supportbot_config: EvalConfig) -> Any:
    """Where this test's cassettes live: the marker's ``cassettes=`` or the ini setting."""
    from pathlib import Path

    marker = request.node.get_closest_marker(MARKER)
    folder = marker.kwargs.get("cassettes") if marker else None
    return Path(str(request.path)).parent / folder if folder else supportbot_config.cassette_dir


@pytest.fixture
def supportbot_results(
    request: pytest.FixtureRequest,
    supportbot_case: GoldenCase,
    supportbot_agent: Any,
    supportbot_tracing: tuple[Any, Any],
    supportbot_relevance_judge: Any,
    supportbot_record_mode: str,
    supportbot_cassette_dir: Any,
    supportbot_collector: EvalSession,
    supportbot_config: EvalConfig,
) -> list[CaseResult]:
    """Run this test's golden case (replayed from its cassette): one result per turn."""
    from dataclasses import replace

    from pytest_supportbot_evals.config.contract import AgentSpec
    from pytest_supportbot_evals.run.runner import Runner, cassette_path, run_golden
    from pytest_supportbot_evals.verdict import tokens

    spec = supportbot_agent
    if not isinstance(spec, AgentSpec):
        spec = AgentSpec(spec)
    prompt_dir = supportbot_config.agent.prompt_dir if supportbot_config.agent else None
    if prompt_dir is not None:  # ini evals_prompts names the agent's prompts
        spec = replace(spec, prompt_dir=prompt_dir)
    supportbot_collector.describe_agent(spec)
    runner = Runner(
        spec,
        supportbot_tracing[1],
        supportbot_config.registry,
        judges={"retrieval_relevance": supportbot_relevance_judge},
        settings=supportbot_config.settings,
        judge_method=supportbot_config.judge_method,
        timeout=supportbot_config.golden_timeout,
    )
    results = run_golden(
        runner,
        supportbot_case,
        cassette_path(supportbot_cassette_dir, supportbot_case),
        supportbot_record_mode,
        suite=suite_of(request.node),
    )
    for result in results:
        supportbot_collector.add(result)
        prefix = f"supportbot.turn{result.turn}." if result.turn else "supportbot."
        for verdict in result.verdicts:
            if verdict.document_position is None:  # the span's verdict, not its documents'
                request.node.user_properties.append(
                    (prefix + verdict.judge, verdict.label or "error")
                )
        for check in result.checks:
            request.node.user_properties.append((f"{prefix}check.{check.evaluator}", check.actual))
        for who, used in tokens.split(result.tokens).items():
            request.node.user_properties.append((f"{prefix}tokens.{who}", tokens.total(used)))
    return results


@pytest.fixture
def supportbot_result(supportbot_results: list[CaseResult]) -> CaseResult:
    """The case's result; for a conversation, its turns folded into one (for asserting)."""
    from pytest_supportbot_evals.run.runner import fold_turns

    return fold_turns(supportbot_results)


@pytest.fixture
def supportbot_assert(
    request: pytest.FixtureRequest, supportbot_config: EvalConfig
) -> Callable[[Any], None]:
    """Assert a case's result(s): errors fail; a missed expectation is reported as MISSED (the
    test is evaluated and the miss counts against the gate), or fails with --supportbot-strict."""
    from pytest_supportbot_evals.run.runner import fold_turns

    def check(results: CaseResult | list[CaseResult]) -> None:
        result = fold_turns(results) if isinstance(results, list) else results
        if result.error is not None:
            pytest.fail(eval_session(request.config).failure_text(result), pytrace=False)
        failed = result.failed_checks()
        if not failed:
            return
        message = "; ".join(c.describe(detail=True) for c in failed)
        if supportbot_config.strict:
            pytest.fail(message, pytrace=False)
        request.node.stash[MISSED] = message
        request.node.user_properties.append(("supportbot.missed", message[:2000]))

    return check
