"""The fixtures of the evals plugin. Every one can be overridden at any scope, in the style of
pytest-recording: e.g. an ``evals_agent`` fixture in your conftest.py runs your own agent under
the same gate (the usual way is ini ``evals_agent``; see ``contract``). Nothing heavy is
imported until a test asks for one. The old ``supportbot_*`` names are deprecated aliases
(``aliases``), and an old ``supportbot_agent`` override is still honoured, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_supportbot_evals.run.state import (
    MISSED,
    deprecated,
    eval_marker,
    eval_session,
    suite_of,
)

if TYPE_CHECKING:
    from pytest_supportbot_evals.config.eval_config import EvalConfig
    from pytest_supportbot_evals.run.goldens import GoldenCase
    from pytest_supportbot_evals.run.runner import CaseResult
    from pytest_supportbot_evals.run.session import EvalSession


@pytest.fixture(scope="session")
def evals_config(pytestconfig: pytest.Config) -> EvalConfig:
    """The frozen plugin configuration (options, ini, env)."""
    return eval_session(pytestconfig).config


@pytest.fixture(scope="session")
def evals_collector(pytestconfig: pytest.Config) -> EvalSession:
    """The session's collector of case results; the gate is computed from it at the end."""
    return eval_session(pytestconfig)


@pytest.fixture(scope="session")
def evals_tracing(evals_config: EvalConfig) -> tuple[Any, Any]:
    """(tracer provider, in-memory exporter): spans stay in memory during the run."""
    from evals_core.tracing import memory_provider

    return memory_provider(evals_config.settings.phoenix_project)


@pytest.fixture(scope="session")
def supportbot_bot(evals_config: EvalConfig, evals_tracing: tuple[Any, Any]) -> Any:
    """SupportBot, the reference agent (used when no agent is configured)."""
    from pytest_supportbot_evals.run.reference import make_bot

    return make_bot(evals_config.settings, evals_tracing[0])


@pytest.fixture(scope="session")
def evals_agent(
    request: pytest.FixtureRequest, evals_config: EvalConfig, evals_tracing: Any
) -> Any:
    """The agent under the gate (``contract``): ini ``evals_agent``'s factory, called with the
    plugin's tracer provider; SupportBot when unset. Override to build it yourself."""
    from pytest_supportbot_evals.config.contract import build_agent, load_factory
    from pytest_supportbot_evals.run.reference import supportbot_agent

    agent = evals_config.agent
    if agent is None or agent.factory is None:
        return supportbot_agent(request.getfixturevalue("supportbot_bot"))
    factory = load_factory(agent.factory, "ini evals_agent")
    return build_agent(factory, evals_tracing[0])


@pytest.fixture(scope="session")
def evals_relevance_judge(evals_config: EvalConfig) -> Any:
    """The retrieval_relevance LLM judge (phoenix-evals); override to swap the judge."""
    from evals_core.judges import RetrievalRelevanceJudge

    return RetrievalRelevanceJudge(evals_config.settings, evals_config.judge_method)


@pytest.fixture(scope="session")
def evals_record_mode(evals_config: EvalConfig) -> str:
    return evals_config.record_mode


@pytest.fixture
def evals_cassette_dir(request: pytest.FixtureRequest, evals_config: EvalConfig) -> Any:
    """Where this test's cassettes live: the marker's ``cassettes=`` or the ini setting."""
    from pathlib import Path

    marker = eval_marker(request.node)
    folder = marker.kwargs.get("cassettes") if marker else None
    return Path(str(request.path)).parent / folder if folder else evals_config.cassette_dir


@pytest.fixture
def evals_results(
    request: pytest.FixtureRequest,
    evals_case: GoldenCase,
    evals_agent: Any,
    evals_tracing: tuple[Any, Any],
    evals_relevance_judge: Any,
    evals_record_mode: str,
    evals_cassette_dir: Any,
    evals_collector: EvalSession,
    evals_config: EvalConfig,
) -> list[CaseResult]:
    """Run this test's golden case (replayed from its cassette): one result per turn."""
    from dataclasses import replace

    from pytest_supportbot_evals.config.contract import AgentSpec
    from pytest_supportbot_evals.run.runner import Runner, cassette_path, run_golden
    from pytest_supportbot_evals.verdict import tokens

    # an older conftest's supportbot_agent/supportbot_relevance_judge fixture still wins
    spec = overridden(request, "supportbot_agent", evals_agent)
    evals_relevance_judge = overridden(request, "supportbot_relevance_judge", evals_relevance_judge)
    if not isinstance(spec, AgentSpec):
        spec = AgentSpec(spec)
    prompt_dir = evals_config.agent.prompt_dir if evals_config.agent else None
    if prompt_dir is not None:  # ini evals_prompts names the agent's prompts
        spec = replace(spec, prompt_dir=prompt_dir)
    evals_collector.describe_agent(spec)
    runner = Runner(
        spec,
        evals_tracing[1],
        evals_config.registry,
        judges={"retrieval_relevance": evals_relevance_judge},
        settings=evals_config.settings,
        judge_method=evals_config.judge_method,
        timeout=evals_config.golden_timeout,
    )
    results = run_golden(
        runner,
        evals_case,
        cassette_path(evals_cassette_dir, evals_case),
        evals_record_mode,
        suite=suite_of(request.node),
    )
    for result in results:
        evals_collector.add(result)
        prefix = f"evals.turn{result.turn}." if result.turn else "evals."
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
def evals_result(evals_results: list[CaseResult]) -> CaseResult:
    """The case's result; for a conversation, its turns folded into one (for asserting)."""
    from pytest_supportbot_evals.run.runner import fold_turns

    return fold_turns(evals_results)


@pytest.fixture
def evals_assert(request: pytest.FixtureRequest, evals_config: EvalConfig) -> Callable[[Any], None]:
    """Assert a case's result(s): errors fail; a missed expectation is reported as MISSED (the
    test is evaluated and the miss counts against the gate), or fails with --evals-strict."""
    from pytest_supportbot_evals.run.runner import fold_turns

    def check(results: CaseResult | list[CaseResult]) -> None:
        result = fold_turns(results) if isinstance(results, list) else results
        if result.error is not None:
            pytest.fail(eval_session(request.config).failure_text(result), pytrace=False)
        failed = result.failed_checks()
        if not failed:
            return
        message = "; ".join(c.describe(detail=True) for c in failed)
        if evals_config.strict:
            pytest.fail(message, pytrace=False)
        request.node.stash[MISSED] = message
        request.node.user_properties.append(("evals.missed", message[:2000]))

    return check


def old_overrides(golden_items: list[pytest.Item]) -> list[str]:
    """A conftest's ``supportbot_bot`` fixture no longer plugs an agent in: one usage error."""
    if not golden_items:
        return []
    golden = golden_items[0]
    defs = golden.session._fixturemanager.getfixturedefs("supportbot_bot", golden) or ()
    if not defs or defs[-1].func.__module__ == __name__:
        return []
    return [
        f"evals: fixture supportbot_bot is overridden ({defs[-1].baseid or 'conftest.py'}), but "
        'it no longer plugs an agent in: set ini evals_agent = "module:factory" (or override '
        "the evals_agent fixture) and delete the supportbot_bot fixture."
    ]


def overridden(request: pytest.FixtureRequest, name: str, value: Any) -> Any:
    """The value of the deprecated fixture ``name`` if a conftest or test module (not this
    plugin) defines it for this test (one warning), else ``value``."""
    defs = request._fixturemanager.getfixturedefs(name, request.node)
    if not defs or defs[-1].func.__module__ == __name__:
        return value
    deprecated(request.config, f"fixture {name}", f"fixture {name.replace('supportbot', 'evals')}")
    return request.getfixturevalue(name)


def _alias(new: str, scope: Any) -> Any:
    """The deprecated ``supportbot_*`` fixture of ``new``: the same value, one warning."""
    import inspect

    old = new.replace("evals_", "supportbot_", 1)

    def alias(request: pytest.FixtureRequest, **values: Any) -> Any:
        deprecated(request.config, f"fixture {old}", f"fixture {new}")
        return values[new]

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    alias.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", kind), inspect.Parameter(new, kind)]
    )
    alias.__name__ = old
    return pytest.fixture(scope=scope, name=old)(alias)


for _new, _scope in (
    ("evals_config", "session"),
    ("evals_collector", "session"),
    ("evals_tracing", "session"),
    ("evals_agent", "session"),
    ("evals_relevance_judge", "session"),
    ("evals_record_mode", "session"),
    ("evals_cassette_dir", "function"),
    ("evals_case", "function"),
    ("evals_results", "function"),
    ("evals_result", "function"),
    ("evals_assert", "function"),
):
    globals()["_alias_" + _new] = _alias(_new, _scope)
