"""A PASS means every selected golden run was evaluated: what gives no result fails the gate.

Each test here is a way a run used to end green (or silent) while a golden was not evaluated.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_helpers import CASE_IDS, output_of, traceback_frames

ONE_BROKEN_FIXTURE = """
    import pytest


    @pytest.fixture(autouse=True)
    def flaky_setup(request):
        case = request.node.callspec.params.get("evals_case")
        if case is not None and case.id == "tutorial-refund":
            raise RuntimeError("the test database is down")
"""


def merge(project, *reports, extra=()):
    merged = project.path / "merged.json"
    command = [
        sys.executable,
        "-m",
        "pytest_supportbot_evals.cli",
        "merge",
        *map(str, reports),
    ]
    result = subprocess.run(
        [*command, "--report", str(merged), *extra],
        capture_output=True,
        text=True,
        cwd=project.path,
        check=False,
    )
    return result, merged


def test_truncated_cassette_fails_the_gate_naming_it_and_merge_fails_too(eval_project):
    cassette = eval_project.cassette("tutorial-refund")
    text = cassette.read_text(encoding="utf-8")
    cassette.write_text(text[: len(text) // 2].rsplit("\n", 3)[0] + "\n  - {", encoding="utf-8")

    result, report = eval_project.run_with_report()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["gate"] == "fail" and report["complete"] is False
    assert report["errored"] == ["tutorial-refund"]
    assert any("could not be evaluated: tutorial-refund" in r for r in report["reasons"])
    result.stdout.fnmatch_lines(
        [
            "evals gate: FAIL (4 case runs; 3/4 selected golden runs evaluated)",
            "*could not be evaluated: tutorial-refund*",
            "FAILED evals::gate - *could not be evaluated*",
        ]
    )
    merged, path = merge(eval_project, eval_project.path / "report.json")
    assert merged.returncode == 1, merged.stdout + merged.stderr
    assert json.loads(path.read_text())["gate"] == "fail"


def test_a_golden_whose_test_errors_before_its_result_is_named_as_not_evaluated(eval_project):
    (eval_project.path / "tests" / "conftest.py").write_text(
        textwrap.dedent(ONE_BROKEN_FIXTURE), encoding="utf-8"
    )

    result, report = eval_project.run_with_report()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["gate"] == "fail"
    assert report["missing"] == ["tutorial-refund"]
    assert len(report["cases"]) == len(CASE_IDS) - 1
    result.stdout.fnmatch_lines(
        [
            "evals gate: FAIL (3 case runs; 3/4 selected golden runs evaluated)",
            "*1 selected golden run(s) were not evaluated*tutorial-refund (failed in setup: "
            "RuntimeError: the test database is down)*",
        ]
    )


def test_a_run_stopped_early_fails_the_gate_for_the_runs_it_never_reached(eval_project):
    # the tutorial's meant-to-fail golden first (node ids run in the order given), so that -x
    # stops before the others whatever the recording model did with them
    order = sorted(CASE_IDS, key=_meant_to_fail_first)
    ids = [f"tests/test_goldens.py::test_golden[{i}]" for i in order]
    result, report = eval_project.run_with_report("-x", "--evals-strict", *ids)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["gate"] == "fail" and report["missing"]
    assert len(report["cases"]) + len(report["missing"]) == len(CASE_IDS)
    assert "were not evaluated" in result.stdout.str()


def _meant_to_fail_first(case_id):
    return case_id != "tutorial-upgrade-premium"


@pytest.mark.parametrize("content", [{}, {"notes.txt": "not a golden"}], ids=["empty", "no-yaml"])
def test_a_goldens_path_without_goldens_is_a_usage_error(eval_project, content):
    folder = eval_project.path / "typo"
    folder.mkdir()
    for name, text in content.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = eval_project.path / "report.json"

    result = eval_project.run(f"--evals-goldens={folder}", f"--evals-report={report}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"no golden case found in {folder}" in output_of(result)
    assert traceback_frames(output_of(result)) == []
    assert not report.exists()


def test_merge_fails_when_the_shards_do_not_cover_the_golden_set(eval_project):
    first = eval_project.path / "shard1.json"
    eval_project.run(f"--evals-report={first}", "--evals-shard=1/2")
    second = eval_project.path / "shard2.json"
    eval_project.run(f"--evals-report={second}", "--evals-shard=2/2")
    shard_one = json.loads(first.read_text())
    assert 0 < len(shard_one["cases"]) < len(CASE_IDS)

    complete, _ = merge(eval_project, first, second)
    half, path = merge(eval_project, first)
    twice, _ = merge(eval_project, first, first)

    assert complete.returncode == 0, complete.stdout + complete.stderr
    assert half.returncode == 1
    missing = sorted(set(CASE_IDS) - {c["id"] for c in shard_one["cases"]})
    assert json.loads(path.read_text())["missing"] == missing
    assert "were not evaluated (no result" in half.stdout
    assert twice.returncode == 2 and "appear in more than one report" in twice.stderr


def test_a_narrowed_run_says_so_and_gates_what_it_ran(eval_project):
    result, report = eval_project.run_with_report("-k", "refund")

    assert result.ret == 0, output_of(result)
    assert report["coverage"]["selected_runs"] == 1
    assert report["coverage"]["planned_runs"] == len(CASE_IDS)
    assert report["complete"] is False
    result.stdout.fnmatch_lines(
        [
            f"evals gate: PASS (1 case runs; 1/1 selected golden runs evaluated, "
            f"{len(CASE_IDS)} in the golden sets)",
            "*partial run: 1 of 4 golden runs selected*",
        ]
    )


def test_collect_only_reports_no_gate(eval_project):
    result = eval_project.run("--collect-only", "-q")

    assert result.ret == 0, output_of(result)
    assert "evals gate" not in output_of(result)


def test_the_gate_does_not_depend_on_xfail_options(eval_project, replay_report):
    plain, plain_report = eval_project.run_with_report(name="plain.json")
    runxfail, runxfail_report = eval_project.run_with_report("--runxfail", name="runxfail.json")

    assert plain.parseoutcomes() == runxfail.parseoutcomes()
    assert plain.ret == runxfail.ret == 0
    assert plain_report["evaluators"] == runxfail_report["evaluators"]
    assert "xfailed" not in plain.parseoutcomes()
    missed = [c for c in replay_report["cases"] if not c["passed"]]
    assert plain.parseoutcomes().get("missed", 0) == len(missed)


def test_sessionfinish_outputs_are_kept_apart(eval_project, clean_env):
    """A report refused by the secrets scan: one line, the other outputs still written, no
    traceback, no temp file, and the run fails (a requested output is missing)."""
    clean_env.setenv("SUPPORT_DESK_TOKEN", "get a refund")  # in a golden query: a "secret"
    report, markdown, junit = (eval_project.path / n for n in ("r.json", "r.md", "junit.xml"))

    result = eval_project.run(
        f"--evals-report={report}", f"--evals-markdown={markdown}", f"--junitxml={junit}"
    )

    text = output_of(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, text
    assert traceback_frames(text) == []
    assert f"report {report} NOT written" in text
    assert "it would contain a secret" in text
    assert not report.exists()
    assert markdown.exists() and junit.exists()
    assert "classification: llm" in markdown.read_text()  # the model's own labels, counted
    assert 'failures="1"' in junit.read_text()
    assert list(Path(eval_project.path).glob(".*.tmp")) == []
    result.stdout.fnmatch_lines(["evals gate: FAIL*", "*report*NOT written*"])


def test_a_hand_edited_recording_fails_until_re_recorded_or_re_sealed(eval_project):
    cassette = eval_project.cassette("tutorial-refund")
    text = cassette.read_text(encoding="utf-8")
    assert "supportbot_seal:" in text  # recorded before the neutral names: still verified
    at = text.rindex('"id":"chatcmpl-') + len('"id":"chatcmpl-')  # the last recorded reply
    cassette.write_text(text[:at] + "EDITED" + text[at:], encoding="utf-8")

    result, report = eval_project.run_with_report()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["errored"] == ["tutorial-refund"]
    out = output_of(result)
    assert "Cassette of golden 'tutorial-refund'" in out
    assert "does not match its seal" in out
    assert "evals record tutorial-refund" in out
    assert f"evals seal {cassette}" in out
    cli = [sys.executable, "-m", "pytest_supportbot_evals.cli"]
    checked = subprocess.run(
        [*cli, "check-cassettes", str(cassette.parent)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "tutorial-refund.yaml: recorded interaction" in checked.stdout
    assert "does not match its seal" in checked.stdout

    sealed = subprocess.run(
        [sys.executable, "-m", "pytest_supportbot_evals.cli", "seal", str(cassette)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert sealed.returncode == 0 and "sealed" in sealed.stdout
    resealed = cassette.read_text(encoding="utf-8")  # under the neutral key, the old one gone
    assert "evals_seal:" in resealed and "supportbot_seal" not in resealed
    again, report = eval_project.run_with_report(name="after-seal.json")
    assert report["errored"] == [] and again.ret == 0, output_of(again)
