"""Every setting applies or is refused: thresholds reach every suite, the marker is validated,
untrusted judges are advisory, and pytest-recording can be installed beside the plugin."""

import json
import shutil
import textwrap
import xml.etree.ElementTree as ET

import pytest
from plugin_helpers import CASSETTE_DIR, output_of, traceback_frames, tutorial_cases

MINE = "tutorial-order-shipped"
MARKED = """
    import pytest


    @pytest.mark.evals(
        goldens="my_goldens", cassettes="my_cassettes"{extra}
    )
    def test_mine(evals_result, evals_assert):
        evals_assert(evals_result)
"""


def marked_project(eval_project, extra="", suite="mine"):
    tests = eval_project.path / "tests"
    (tests / "test_mine.py").write_text(
        textwrap.dedent(MARKED.format(extra=f", suite={suite!r}{extra}")), encoding="utf-8"
    )
    eval_project.write_goldens(tutorial_cases([MINE]), name="mine.yaml", folder="tests/my_goldens")
    (tests / "my_cassettes").mkdir()
    shutil.copy(CASSETTE_DIR / f"{MINE}.yaml", tests / "my_cassettes" / f"{MINE}.yaml")
    return eval_project


def test_command_line_threshold_reaches_a_marked_suite(eval_project):
    project = marked_project(eval_project, extra=', thresholds={"label": 0.5}')

    result, report = project.run_with_report("tests/test_mine.py", "--evals-threshold=label=1.01")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    stat = report["evaluators"]["mine:label"]
    assert (stat["threshold"], stat["status"]) == (1.01, "fail")  # the command line wins
    assert any(r.endswith("[mine]") and "label" in r for r in report["reasons"])


def test_ini_thresholds_reach_a_marked_suite_unless_its_marker_sets_them(eval_project):
    project = marked_project(eval_project, extra=', thresholds={"label": 0.5}')
    project.write_ini(thresholds=["label=1.01", "tool_result=1.01"])

    result, report = project.run_with_report("tests/test_mine.py")

    assert report["evaluators"]["mine:label"]["threshold"] == 0.5  # the marker wins over ini
    assert report["evaluators"]["mine:tool_result"]["threshold"] == 1.01  # the ini fills in
    assert report["evaluators"]["mine:tool_result"]["status"] == "fail"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_command_line_threshold_nothing_checks_fails_the_gate(eval_project):
    project = marked_project(eval_project)

    result, report = project.run_with_report(
        "tests/test_mine.py", "--evals-threshold=retrieval_relevance=0.5"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert any("applies to no check" in r for r in report["reasons"]), report["reasons"]


@pytest.mark.parametrize(
    ("extra", "suite", "needles"),
    [
        (", threshold={'label': 1.0}", "mine", ["unknown argument(s) threshold", "accepted:"]),
        (", thresholds=0.9", "mine", ["thresholds=0.9 must be a mapping"]),
        (", thresholds={'nosuch': 0.9}", "mine", ["unknown evaluator 'nosuch'"]),
        ("", "a:b", ["suite='a:b' must be a name"]),
    ],
    ids=["unknown-keyword", "thresholds-not-a-mapping", "unknown-evaluator", "bad-suite"],
)
def test_bad_marker_arguments_are_a_usage_error(eval_project, extra, suite, needles):
    project = marked_project(eval_project, extra=extra, suite=suite)

    result = project.run("tests/test_mine.py")

    text = output_of(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, text
    assert "evals marker of tests/test_mine.py::test_mine" in text
    for needle in needles:
        assert needle in text
    assert traceback_frames(text) == []


def test_a_marker_on_a_test_that_runs_no_golden_is_a_usage_error(eval_project):
    (eval_project.path / "tests" / "test_other.py").write_text(
        "import pytest\n\n\n@pytest.mark.evals(suite='x')\ndef test_plain():\n    pass\n",
        encoding="utf-8",
    )

    result = eval_project.run()  # beside the working golden suite

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_plain has the evals marker but does not use" in output_of(result)
    assert "evals gate" not in output_of(result)  # nothing ran: no gate to blame


def test_goldens_option_that_no_test_uses_is_a_usage_error(eval_project):
    project = marked_project(eval_project)

    result = project.run("tests/test_mine.py", "--evals-goldens=goldens")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--evals-goldens applies to eval tests without their own goldens=" in (output_of(result))


def test_a_marker_threshold_nothing_checks_fails_the_gate(eval_project):
    project = marked_project(eval_project, extra=', thresholds={"retrieval_relevance": 0.5}')

    result, report = project.run_with_report("tests/test_mine.py")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert any(
        "sets a retrieval_relevance threshold, but no golden" in r for r in report["reasons"]
    )


def test_a_model_setting_that_differs_from_the_recording_says_which_setting(eval_project):
    result, report = eval_project.run_with_report("--evals-model=gpt-4o-mini")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # the user's explicit model does every step: it answers too, whatever evals_answer_model says
    assert report["meta"]["model"] == report["meta"]["answer_model"] == "gpt-4o-mini"
    assert "Only settings differ: the cassette was recorded with model" in output_of(result)
    assert "(evals_model, or evals_answer_model for an answer step)" in output_of(result)


def test_untrusted_judge_is_advisory_unless_judges_are_strict(eval_project):
    threshold = "--evals-threshold=retrieval_relevance=1.01"
    lenient, report = eval_project.run_with_report(threshold, name="lenient.json")
    strict, strict_report = eval_project.run_with_report(
        threshold, "--evals-strict-judges", name="strict.json"
    )

    assert report["calibration"]["retrieval_relevance"]["trusted"] is False
    assert report["evaluators"]["retrieval_relevance"]["advisory"] is True
    assert report["gate"] == "pass" and lenient.ret == 0, output_of(lenient)
    assert "retrieval_relevance is advisory" in lenient.stdout.str()
    assert strict_report["gate"] == "fail" and strict.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failed_gate_is_a_failure_in_junit_with_the_figures(eval_project):
    junit = eval_project.path / "junit.xml"

    result = eval_project.run(f"--junitxml={junit}", "--evals-threshold=label=1.01")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "1" and suite.get("skipped") == "0"
    (gate,) = [c for c in suite.iter("testcase") if c.get("name") == "gate"]
    assert "label pass rate" in gate.find("failure").get("message")
    props = {p.get("name"): p.get("value") for p in gate.iter("property")}
    assert props["evals.gate"] == "fail"
    assert props["evals.label.status"] == "fail"
    assert props["evals.label.threshold"] == "1.01"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--evals-report=."], "--evals-report='.' is a folder"),
        (["--evals-markdown=pyproject.toml/summary.md"], "is a file, not a folder"),
    ],
    ids=["report-is-a-folder", "markdown-under-a-file"],
)
def test_unwritable_output_paths_are_refused_at_start(eval_project, args, needle):
    result = eval_project.run(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert needle in output_of(result)
    assert "no tests ran" in result.stdout.str()  # refused before any golden ran


def test_pytest_recording_beside_the_plugin(eval_project):
    """pytest-recording owns --record-mode; the suite replays and gates beside it, and a
    pytest-recording test runs in the same session (even with --block-network)."""
    pytest.importorskip("pytest_recording")
    (eval_project.path / "tests" / "test_vcr_user.py").write_text(
        "import pytest\n\n\n@pytest.mark.vcr\ndef test_theirs(vcr):\n"
        "    assert vcr.record_mode == 'none'\n",
        encoding="utf-8",
    )
    report = eval_project.path / "report.json"

    result = eval_project.run("--record-mode=none", "--block-network", f"--evals-report={report}")

    assert result.ret == 0, output_of(result)
    assert "recording" in next(line for line in result.outlines if line.startswith("plugins:"))
    data = json.loads(report.read_text())
    assert data["gate"] == "pass" and data["complete"] is True
    assert data["meta"]["record_mode"] == "none"
    result.stdout.fnmatch_lines(["evals gate: PASS*"])
