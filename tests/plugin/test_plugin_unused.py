"""A project that installs the plugin but runs no eval: no output, no heavy imports."""

import re
import sys

import pytest

PLAIN_TEST = "def test_plain():\n    assert 1 + 1 == 2\n"
HEAVY = ("openai", "vcr", "phoenix", "opentelemetry.sdk")
#: All of the plugin a run with no eval imports: its options, spellings, hook specs and state.
LIGHT = {
    "pytest_supportbot_evals",
    "pytest_supportbot_evals.plugin",
    "pytest_supportbot_evals.config",
    "pytest_supportbot_evals.config.options",
    "pytest_supportbot_evals.config.spelling",
    "pytest_supportbot_evals.run",
    "pytest_supportbot_evals.run.state",
    "pytest_supportbot_evals.hookspecs",
}
IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(?P<module>\S+)\s*$")


@pytest.fixture
def plain_project(pytester, clean_env):
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makepyfile(test_plain=PLAIN_TEST)
    return pytester


@pytest.mark.parametrize("autoload", [True, False], ids=["entry-point", "dash-p-only"])
def test_plugin_prints_nothing_when_no_eval_runs(plain_project, clean_env, autoload):
    if not autoload:
        clean_env.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    result = plain_project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "supportbot_evals")

    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert any("evals-gate" in line for line in result.outlines if line.startswith("plugins:"))
    # the header too: the plugin's distribution has a neutral name
    lines = result.outlines + result.errlines
    assert [line for line in lines if "supportbot" in line.lower()] == []


def test_plugin_options_are_listed_in_help(plain_project):
    result = plain_project.runpytest_subprocess("-p", "no:cacheprovider", "--help")

    result.stdout.fnmatch_lines(
        [
            "*LLM eval regression gate (evals)*",
            "*--evals-record-mode*",
            "*--evals-threshold=NAME=VALUE*",
            "*evals_thresholds (linelist)*",
        ]
    )


@pytest.mark.parametrize("autoload", [True, False], ids=["entry-point", "dash-p-only"])
def test_plugin_imports_no_sdk_when_no_eval_runs(plain_project, clean_env, autoload):
    # arize-phoenix-client registers a pytest plugin of its own that imports phoenix and the
    # OpenTelemetry SDK; it is kept out so that only this plugin's imports are measured.
    if autoload:
        args = ["-p", "no:phoenix"]
    else:
        clean_env.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        args = ["-p", "supportbot_evals"]

    result = plain_project.run(
        sys.executable, "-X", "importtime", "-m", "pytest", "-p", "no:cacheprovider", *args
    )

    assert result.ret == 0, "\n".join(result.outlines + result.errlines)
    assert any(line.startswith("plugins:") and "evals-gate" in line for line in result.outlines)
    modules = [m["module"] for m in map(IMPORT_LINE.match, result.errlines) if m]
    assert len(modules) > 100  # -X importtime output was captured
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    # nor the plugin's evaluators, judges and settings (they cost ~30 ms of start-up)
    ours = ("pytest_supportbot_evals", "evals_core", "phoenix_delivery", "supportbot")
    assert {m for m in modules if m.split(".")[0] in ours} <= LIGHT
