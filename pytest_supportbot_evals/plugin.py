"""pytest hooks of pytest-supportbot-evals (entry point ``supportbot_evals``); the fixtures are
in ``fixtures``.

Thin on purpose: every decision lives in a plain module (goldens, cassettes, runner, gate,
report, session). Nothing heavy is imported until a test asks for a ``supportbot_*`` fixture,
so a project that installs the plugin but runs no eval pays nothing at start-up.

Every fixture can be overridden at any scope, in the style of pytest-recording: e.g. a
``supportbot_agent`` fixture in your conftest.py runs your own agent under the same gate (or
set ini ``evals_agent``; see README, "Gate your own agent").
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_supportbot_evals.config.spelling import speak
from pytest_supportbot_evals.run.state import (
    GOLDEN_ITEMS,
    GOLDENS_USED,
    MARKER,
    MISSED,
    OLD_MARKER,
    SESSION_KEY,
    USAGE_ERRORS,
    eval_marker,
    suite_of,
)
from pytest_supportbot_evals.run.state import eval_session as _session

#: The fixtures live in their own module, registered with this plugin.
pytest_plugins = ["pytest_supportbot_evals.run.fixtures"]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_supportbot_evals import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    from pytest_supportbot_evals.config.options import add_options

    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from pytest_supportbot_evals.config.options import plugin_ini_keys
    from pytest_supportbot_evals.config.spelling import SpellingError, reconcile

    try:
        notes = reconcile(config, plugin_ini_keys(config))
    except SpellingError as exc:
        raise pytest.UsageError(f"evals: {exc}") from None
    for note in notes:  # one warning per deprecated spelling
        config.issue_config_time_warning(pytest.PytestDeprecationWarning(note), stacklevel=2)
    config.addinivalue_line("markers", f"{OLD_MARKER}: deprecated name of the {MARKER} marker.")
    config.addinivalue_line(
        "markers",
        f"{MARKER}(goldens=None, thresholds=None, suite=None, cassettes=None): run the test once "
        "per golden case (fixture evals_case) under its own thresholds and cassette folder.",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "evals_case" not in metafunc.fixturenames:
        return
    try:
        _parametrize(metafunc)
    except pytest.UsageError as exc:
        # Raised here, pytest would report a collection error with a traceback; raised from
        # pytest_collection_modifyitems it is a plain "ERROR: ..." line and exit status 4.
        metafunc.config.stash.setdefault(USAGE_ERRORS, []).append(str(exc))
        metafunc.parametrize("evals_case", [])


def _parametrize(metafunc: pytest.Metafunc) -> None:
    from dataclasses import replace
    from pathlib import Path

    from pytest_supportbot_evals.run.goldens import GoldenError, load_goldens
    from pytest_supportbot_evals.run.marker import MarkerError, marker_options
    from pytest_supportbot_evals.run.results import DEFAULT_SUITE
    from pytest_supportbot_evals.run.session import SuiteConflict

    session = _session(metafunc.config)
    where = f"{MARKER} marker of {metafunc.definition.nodeid}"
    try:
        marker = eval_marker(metafunc.definition)
        options = marker_options(marker, where, session.config.registry.names)
    except MarkerError as exc:
        raise pytest.UsageError(f"evals: {exc}") from None
    if options.goldens is None:
        golden_paths, setting = list(session.config.goldens), "--evals-goldens/ini evals_goldens"
        metafunc.config.stash[GOLDENS_USED] = True
    else:
        base = Path(str(metafunc.definition.path)).parent
        golden_paths = [base / p for p in options.goldens]
        setting = f"goldens= of the {where}, relative to {base}"
    try:
        agent = session.config.agent
        cases = load_goldens(golden_paths, agent.vocabulary if agent else None)
    except GoldenError as exc:
        raise pytest.UsageError(f"evals: {exc} (from {setting})") from None
    if not cases:
        shown = ", ".join(str(p) for p in golden_paths)
        raise pytest.UsageError(
            f"evals: no golden case found in {shown} (from {setting}): no "
            "*.yaml/*.yml golden file there. Check the path, or add golden files."
        )
    runs = [replace(c, repetition=r) for c in cases for r in range(session.config.repeat)]
    try:
        session.note_goldens(options.suite or DEFAULT_SUITE, runs, options.thresholds, where)
    except SuiteConflict as exc:
        raise pytest.UsageError(f"evals: {exc}") from None
    metafunc.parametrize("evals_case", runs, ids=[run.run_id for run in runs])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Report bad goldens or settings as one usage error; apply ``--evals-only`` (golden
    ids, e.g. to re-record just those) and ``--evals-shard I/N``."""
    errors = config.stash.setdefault(USAGE_ERRORS, [])
    golden_tests = any("evals_case" in _fixtures(item) for item in items)
    if config.getoption("evals_goldens") and golden_tests and GOLDENS_USED not in config.stash:
        errors.append(
            "evals: --evals-goldens applies to eval tests without their own "
            "goldens=, but every eval test collected here names its goldens in its "
            f"{MARKER} marker; drop the option, or the marker's goldens=."
        )
    errors += [
        f"evals: {item.nodeid} has the {MARKER} marker but does not use the "
        "evals_case fixture (directly or through evals_results/evals_result), "
        "so the marker would do nothing; use one of those fixtures or remove the marker."
        for item in items
        if eval_marker(item) and "evals_case" not in _fixtures(item)
    ]
    from pytest_supportbot_evals.run.fixtures import old_overrides

    errors += old_overrides([i for i in items if "evals_case" in _fixtures(i)])
    if errors:
        raise pytest.UsageError(speak("\n".join(dict.fromkeys(errors))))
    only = config.getoption("evals_only")
    shard = config.getoption("evals_shard")
    if not only and not shard:
        return
    golden_runs = [i for i in items if "evals_case" in _fixtures(i)]
    drop = set()
    if only:  # every other test is deselected too: this is for running just those goldens
        wanted = {i.strip() for i in only.split(",")}
        cases = {id(i): i.callspec.params["evals_case"] for i in golden_runs}  # type: ignore[attr-defined]
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


def _fixtures(item: pytest.Item) -> tuple[str, ...]:
    return tuple(getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the gate must see: every golden run of the selected tests (after -k, node ids,
    --deselect, --evals-only and --evals-shard)."""
    if SESSION_KEY not in session.config.stash or session.config.stash.get(USAGE_ERRORS, []):
        return
    from pytest_supportbot_evals.run.goldens import GoldenCase
    from pytest_supportbot_evals.run.runner import result_ids

    eval_session = _session(session.config)
    golden_items = session.config.stash.setdefault(GOLDEN_ITEMS, {})
    for item in session.items:
        case = getattr(item, "callspec", None) and item.callspec.params.get("evals_case")  # type: ignore[attr-defined]
        if not isinstance(case, GoldenCase) or "evals_results" not in _fixtures(item):
            continue  # only tests that run their golden case give results
        suite, ids = suite_of(item), result_ids(case)
        golden_items[item.nodeid] = (suite, ids)
        eval_session.coverage.select(suite, ids)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Mark a golden test whose expectations missed (``MISSED``), and remember why a golden test
    gave no result (its error or skip), to name it in the gate."""
    report = yield
    golden = item.config.stash.get(GOLDEN_ITEMS, {}).get(item.nodeid)
    if golden is None:
        return report
    missed = item.stash.get(MISSED, None)
    if call.when == "call" and report.passed and missed:
        report.evals_missed = missed
    if report.failed or report.skipped:
        _session(item.config).coverage.note_reason(
            *golden, f"{report.outcome} in {call.when}: {_why(report)}"
        )
    return report


def _why(report: pytest.TestReport) -> str:
    """The one line that says why a test did not pass: the exception, or the skip reason."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or report.outcome)


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, Any] | None:
    """A missed expectation is its own outcome (``MISSED``, ``m``): evaluated, counted against
    the gate, neither a pass nor an xfail (so ``--runxfail`` cannot change it)."""
    if report.when == "call" and report.passed and getattr(report, "evals_missed", None):
        return "missed", "m", ("MISSED", {"yellow": True})
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    eval_session = session.config.stash.get(SESSION_KEY, None)
    if eval_session is None:
        return
    eval_session.release()
    if not eval_session.active or _no_run(session.config):
        return
    if session.config.stash.get(USAGE_ERRORS, []):
        return  # a usage error ended the run: no gate over what was not run
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # a pytest-xdist worker: the controller gates
        worker_output.update(eval_session.to_worker_output())
        return
    from pytest_supportbot_evals.phoenix.finishers import finish
    from pytest_supportbot_evals.reporting.junit import report_gate

    finish(eval_session)
    report_gate(session, eval_session)
    if eval_session.verdict == "fail" and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _no_run(config: pytest.Config) -> bool:
    """``--collect-only``, ``--setup-only``, ``--setup-plan``: no test runs, so no gate."""
    option = config.option
    return bool(
        getattr(option, "collectonly", False)
        or getattr(option, "setuponly", False)
        or getattr(option, "setupplan", False)
    )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: gather a worker's results for the one session gate."""
    output = getattr(node, "workeroutput", {})
    if "evals_results" in output:
        _session(node.config).add_worker_output(output)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    eval_session = config.stash.get(SESSION_KEY, None)
    if eval_session is None or not eval_session.active or _no_run(config):
        return
    if getattr(config, "workeroutput", None) is not None:
        return
    from pytest_supportbot_evals.reporting.junit import scrub_written

    scrubbed = scrub_written(config)  # pytest has written --junitxml by now
    if scrubbed:
        terminalreporter.write_line(scrubbed, red=True)
    if config.stash.get(USAGE_ERRORS, []):
        return
    from pytest_supportbot_evals.reporting.report import summary_lines

    terminalreporter.section("evals")
    failed = eval_session.verdict == "fail"
    lines = summary_lines(
        eval_session.analysis(),
        eval_session.results,
        eval_session.output_errors,
        verbose=config.get_verbosity() > 0,
    )
    for line in lines:
        terminalreporter.write_line(speak(line), red=failed and line.startswith("evals gate"))
    for note in eval_session.notes:
        terminalreporter.write_line(note)
