"""Fixtures for the plugin's pytester tests; the helpers live in plugin_helpers.py."""

import copy
import os
import shutil

import pytest
from plugin_helpers import (
    CASE_IDS,
    CASSETTE_DIR,
    CLEARED_ENV,
    GOLDEN_TESTS,
    EvalProject,
    output_of,
    tutorial_cases,
)


def pytest_configure(config):
    # Not ``pytest_plugins``: that is refused in a conftest below the rootdir.
    config.pluginmanager.import_plugin("pytester")


@pytest.fixture(scope="session")
def committed_cassettes():
    missing = [i for i in CASE_IDS if not (CASSETTE_DIR / f"{i}.yaml").is_file()]
    if missing:
        pytest.fail(f"committed cassettes missing (record them first): {missing}")


@pytest.fixture
def clean_env(monkeypatch):
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("SUPPORTBOT_", "EVALS_")) or name == "PYTEST_ADDOPTS":
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def eval_project(pytester, clean_env, committed_cassettes):
    """The default project: four tutorial cases, their cassettes, the shipped test module."""
    project = EvalProject(pytester)
    project.write_ini()
    project.write_goldens(tutorial_cases())
    project.copy_cassettes()
    tests = project.path / "tests"
    tests.mkdir()
    shutil.copy(GOLDEN_TESTS, tests / "test_goldens.py")
    return project


@pytest.fixture(scope="session")
def run_cache():
    """Runs whose outcome depends only on committed files, shared to keep the suite fast."""
    return {}


@pytest.fixture
def replay_run(eval_project, run_cache):
    """(result, JSON report) of a plain verbose replay of the default project."""
    if "baseline" not in run_cache:
        run_cache["baseline"] = eval_project.run_with_report("-v", name="baseline.json")
    result, report = run_cache["baseline"]
    return result, copy.deepcopy(report)


@pytest.fixture
def replay_report(replay_run):
    """A plain replay's JSON report, to derive expectations from the recordings."""
    result, report = replay_run
    assert report["errored"] == [], output_of(result)
    return report
