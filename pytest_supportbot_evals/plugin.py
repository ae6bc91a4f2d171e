"""pytest hooks and fixtures of pytest-supportbot-evals (entry point ``supportbot_evals``).

Thin on purpose: every decision lives in a plain module (goldens, cassettes, runner, gate,
report, session). Nothing heavy is imported until a test asks for a ``supportbot_*`` fixture,
so a project that installs the plugin but runs no eval pays nothing at start-up.

Every fixture can be overridden at any scope, in the style of pytest-recording: e.g. a
``supportbot_bot`` fixture in your conftest.py runs your own agent under the same gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_supportbot_evals.config import EvalConfig
    from pytest_supportbot_evals.goldens import GoldenCase
    from pytest_supportbot_evals.runner import CaseResult
    from pytest_supportbot_evals.session import EvalSession

MARKER = "supportbot_eval"
SESSION_KEY = pytest.StashKey["EvalSession"]()
USAGE_ERRORS = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from pytest_supportbot_evals.options import add_options

    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(goldens=None, thresholds=None, suite=None, cassettes=None): run the test once "
        "per golden case (fixture supportbot_case) under its own thresholds and cassette folder.",
    )


def _session(config: pytest.Config) -> EvalSession:
    if SESSION_KEY not in config.stash:
        from pytest_supportbot_evals.config import ConfigError, build
        from pytest_supportbot_evals.gate import ThresholdError
        from pytest_supportbot_evals.session import EvalSession
        from supportbot.settings import SettingsError

        try:
            config.stash[SESSION_KEY] = EvalSession(build(config))
        except (ConfigError, ThresholdError, SettingsError) as exc:
            raise pytest.UsageError(f"pytest-supportbot-evals: {exc}") from None
    return config.stash[SESSION_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "supportbot_case" not in metafunc.fixturenames:
        return
    try:
        _parametrize(metafunc)
    except pytest.UsageError as exc:
        # Raised here, pytest would report a collection error with a traceback; raised from
        # pytest_collection_modifyitems it is a plain "ERROR: ..." line and exit status 4.
        metafunc.config.stash.setdefault(USAGE_ERRORS, []).append(str(exc))
        metafunc.parametrize("supportbot_case", [])


def _parametrize(metafunc: pytest.Metafunc) -> None:
    from pathlib import Path

    from pytest_supportbot_evals.goldens import GoldenError, load_goldens

    session = _session(metafunc.config)
    marker = metafunc.definition.get_closest_marker(MARKER)
    options = marker.kwargs if marker else {}
    paths = options.get("goldens")
    if paths is None:
        golden_paths = list(session.config.goldens)
    else:
        base = Path(str(metafunc.definition.path)).parent
        golden_paths = [base / p for p in ([paths] if isinstance(paths, str | Path) else paths)]
    try:
        cases = load_goldens(golden_paths)
    except GoldenError as exc:
        raise pytest.UsageError(f"pytest-supportbot-evals: {exc}") from None
    from dataclasses import replace

    runs = [replace(c, repetition=r) for c in cases for r in range(session.config.repeat)]
    session.note_goldens(options.get("suite") or "supportbot", cases)
    metafunc.parametrize("supportbot_case", runs, ids=[run.run_id for run in runs])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Report bad goldens or settings as one usage error; apply ``--supportbot-only`` (golden
    ids, e.g. to re-record just those) and ``--supportbot-shard I/N``."""
    errors = config.stash.get(USAGE_ERRORS, [])
    if errors:
        raise pytest.UsageError("\n".join(dict.fromkeys(errors)))
    only = config.getoption("supportbot_only")
    shard = config.getoption("supportbot_shard")
    if not only and not shard:
        return
    golden_runs = [i for i in items if "supportbot_case" in getattr(i, "fixturenames", ())]
    drop = set()
    if only:  # every other test is deselected too: this is for running just those goldens
        wanted = {i.strip() for i in only.split(",")}
        cases = {id(i): i.callspec.params["supportbot_case"] for i in golden_runs}  # type: ignore[attr-defined]
        keep = {
            key for key, case in cases.items() if "*" in wanted or {case.id, case.run_id} & wanted
        }
        drop = {id(item) for item in items if id(item) not in keep}
        golden_runs = [i for i in golden_runs if id(i) in keep]
    if shard:
        index, total = _session(config).config.shard or (1, 1)
        drop |= {id(item) for n, item in enumerate(golden_runs) if n % total != index - 1}
    if drop:
        config.hook.pytest_deselected(items=[i for i in items if id(i) in drop])
        items[:] = [i for i in items if id(i) not in drop]


@pytest.fixture(scope="session")
def supportbot_config(pytestconfig: pytest.Config) -> EvalConfig:
    """The frozen plugin configuration (options, ini, env)."""
    return _session(pytestconfig).config


@pytest.fixture(scope="session")
def supportbot_collector(pytestconfig: pytest.Config) -> EvalSession:
    """The session's collector of case results; the gate is computed from it at the end."""
    return _session(pytestconfig)


@pytest.fixture(scope="session")
def supportbot_tracing(supportbot_config: EvalConfig) -> tuple[Any, Any]:
    """(tracer provider, in-memory exporter): spans stay in memory during the run."""
    from supportbot.tracing import memory_provider

    return memory_provider(supportbot_config.settings.phoenix_project)


@pytest.fixture(scope="session")
def supportbot_bot(supportbot_config: EvalConfig, supportbot_tracing: tuple[Any, Any]) -> Any:
    """The agent under test. Override to evaluate your own agent with the same gate."""
    from supportbot.agent import SupportBot

    return SupportBot(supportbot_config.settings, tracer_provider=supportbot_tracing[0])


@pytest.fixture(scope="session")
def supportbot_relevance_judge(supportbot_config: EvalConfig) -> Any:
    """The retrieval_relevance LLM judge (phoenix-evals); override to swap the judge."""
    from supportbot.judges import RetrievalRelevanceJudge

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
    supportbot_bot: Any,
    supportbot_tracing: tuple[Any, Any],
    supportbot_relevance_judge: Any,
    supportbot_record_mode: str,
    supportbot_cassette_dir: Any,
    supportbot_collector: EvalSession,
) -> list[CaseResult]:
    """Run this test's golden case (replayed from its cassette): one result per turn."""
    from pytest_supportbot_evals.gate import ThresholdError, parse_thresholds
    from pytest_supportbot_evals.runner import cassette_path, run_golden

    marker = request.node.get_closest_marker(MARKER)
    suite = (marker.kwargs.get("suite") if marker else None) or "supportbot"
    if marker and marker.kwargs.get("thresholds") is not None:
        items = [f"{k}={v}" for k, v in marker.kwargs["thresholds"].items()]
        try:
            supportbot_collector.suite_thresholds[suite] = parse_thresholds(
                items, f"{MARKER} marker"
            )
        except ThresholdError as exc:
            pytest.fail(str(exc), pytrace=False)
    results = run_golden(
        supportbot_bot,
        supportbot_tracing[1],
        supportbot_relevance_judge,
        supportbot_case,
        cassette_path(supportbot_cassette_dir, supportbot_case),
        supportbot_record_mode,
        suite=suite,
    )
    for result in results:
        supportbot_collector.add(result)
        prefix = f"supportbot.turn{result.turn}." if result.turn else "supportbot."
        for verdict in result.verdicts:
            request.node.user_properties.append((prefix + verdict.judge, verdict.label or "error"))
        for check in result.checks:
            request.node.user_properties.append((f"{prefix}check.{check.evaluator}", check.actual))
    return results


@pytest.fixture
def supportbot_result(supportbot_results: list[CaseResult]) -> CaseResult:
    """The case's result; for a conversation, its turns folded into one (for asserting)."""
    from pytest_supportbot_evals.runner import fold_turns

    return fold_turns(supportbot_results)


@pytest.fixture
def supportbot_assert(supportbot_config: EvalConfig) -> Callable[[Any], None]:
    """Assert a case's result(s): errors fail; missed expectations xfail (or fail, if strict)."""
    from pytest_supportbot_evals.runner import fold_turns

    def check(results: CaseResult | list[CaseResult]) -> None:
        result = fold_turns(results) if isinstance(results, list) else results
        if result.error is not None:
            pytest.fail(result.error, pytrace=False)
        failed = result.failed_checks()
        if not failed:
            return
        message = "; ".join(
            f"{c.evaluator}: expected {c.expected}, got {c.actual}"
            + (f" ({c.detail})" if c.detail else "")
            for c in failed
        )
        if supportbot_config.strict:
            pytest.fail(message, pytrace=False)
        pytest.xfail(f"counted against the gate: {message}")

    return check


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    eval_session = session.config.stash.get(SESSION_KEY, None)
    if eval_session is None or not eval_session.results:
        return
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # a pytest-xdist worker: the controller gates
        worker_output.update(eval_session.to_worker_output())
        return
    eval_session.baseline_note = eval_session.update_baseline()
    eval_session.write_outputs()
    eval_session.deliver_to_phoenix()
    if eval_session.analysis().verdict == "fail" and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: gather a worker's results for the one session gate."""
    output = getattr(node, "workeroutput", {})
    if "supportbot_results" in output:
        _session(node.config).add_worker_output(output)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    eval_session = config.stash.get(SESSION_KEY, None)
    if eval_session is None or not eval_session.results:
        return
    from pytest_supportbot_evals.report import summary_lines

    terminalreporter.section("supportbot evals")
    failed = eval_session.analysis().verdict == "fail"
    for line in summary_lines(eval_session.analysis(), eval_session.results):
        terminalreporter.write_line(line, red=failed and line.startswith("supportbot gate"))
    for note in (eval_session.baseline_note, eval_session.delivery_note):
        if note:
            terminalreporter.write_line(note)
