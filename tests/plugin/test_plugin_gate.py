"""The pass-rate gate: thresholds from the command line and ini, the JSON report, junit, strict."""

import xml.etree.ElementTree as ET
from unittest.mock import ANY

import pytest
from plugin_helpers import CASE_IDS, output_of, repo_ini


def test_impossible_threshold_fails_the_gate_and_the_report_says_so(eval_project):
    result, report = eval_project.run_with_report("--evals-threshold", "tool_result=1.01")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes().get("failed", 0) == 1  # only the gate fails the session
    result.stdout.fnmatch_lines(["FAILED evals::gate - tool_result pass rate*"])
    stat = report["evaluators"]["tool_result"]
    assert stat["total"] > 0
    assert stat["pass_rate"] == round(stat["passed"] / stat["total"], 4)
    assert stat["threshold"] == 1.01
    assert stat["status"] == "fail"
    assert report["gate"] == "fail"
    rate = f"{stat['passed'] / stat['total']:.1%}"
    result.stdout.fnmatch_lines(
        [
            f"tool_result * {stat['passed']}/{stat['total']} * {rate} * 101.0% * fail*",
            "evals gate: FAIL*",
            f"  tool_result pass rate {rate} ({stat['passed']}/{stat['total']}) is below its "
            "threshold 101.0% (above 100%: an impossible bar*",
        ]
    )
    assert any("tool_result pass rate" in reason for reason in report["reasons"])
    assert report["evaluators"]["label"]["status"] == "info"


@pytest.mark.parametrize(
    ("ini_above", "cli_above", "fails"),
    [(False, None, False), (True, None, True), (True, False, False)],
    ids=["ini-below-measured", "ini-above-measured", "command-line-overrides-ini"],
)
def test_ini_thresholds_gate_the_session(eval_project, replay_report, ini_above, cli_above, fails):
    measured = replay_report["evaluators"]["label"]["pass_rate"]

    def threshold(above):
        return min(measured + 0.01, 1.5) if above else max(measured - 0.01, 0.0)

    eval_project.write_ini(thresholds=[f"label={threshold(ini_above)}", ""])
    args = [] if cli_above is None else [f"--evals-threshold=label={threshold(cli_above)}"]

    result, report = eval_project.run_with_report(*args)

    stat = report["evaluators"]["label"]
    expected = threshold(ini_above if cli_above is None else cli_above)
    assert stat["threshold"] == pytest.approx(expected)
    assert stat["status"] == ("fail" if fails else "pass")
    assert report["gate"] == ("fail" if fails else "pass")
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if fails else pytest.ExitCode.OK)
    assert ("label pass rate" in result.stdout.str()) is fails


def test_junit_xml_carries_verdicts_and_checks_as_properties(eval_project, replay_report):
    junit = eval_project.path / "junit.xml"

    result = eval_project.run(f"--junitxml={junit}")

    assert result.ret == 0, output_of(result)
    properties = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        case_id = case.get("name").removeprefix("test_golden[").removesuffix("]")
        properties[case_id] = [(p.get("name"), p.get("value")) for p in case.iter("property")]
    assert sorted(properties) == sorted([*CASE_IDS, "gate"])
    gate = dict(properties.pop("gate"))
    assert gate["evals.gate"] == "pass"
    for name, stat in replay_report["evaluators"].items():
        assert gate[f"evals.{name}.passed"] == str(stat["passed"])
        assert gate[f"evals.{name}.total"] == str(stat["total"])
    for case in replay_report["cases"]:
        expected = [
            (f"evals.{v['judge']}", v["label"] or "error")
            for v in case["verdicts"]
            if v["document_position"] is None  # a document's verdict is not a test property
        ]
        expected += [(f"evals.check.{c['evaluator']}", str(c["actual"])) for c in case["checks"]]
        used = {"agent": 0, "judge": 0}
        for step, row in case["tokens"].items():
            used["judge" if step.startswith("judge:") else "agent"] += (
                row["prompt"] + row["completion"]
            )
        expected += [(f"evals.tokens.{who}", str(n)) for who, n in used.items()]
        missed = [c for c in case["checks"] if not c["passed"]]
        if missed:  # a missed expectation is a property of a passing test, not a skip
            expected.append(("evals.missed", ANY))
        assert properties[case["id"]] == expected
        # the category check is the model's own label, not the route
        label = case["classification"]["llm_category"]
        assert ("evals.check.label", label) in properties[case["id"]]
    judged = {name for props in properties.values() for name, _ in props}
    assert "evals.check.tool_result" in judged


def test_strict_turns_a_missed_expectation_into_a_failure(eval_project, replay_report):
    missed = sorted(c["id"] for c in replay_report["cases"] if not c["passed"] and not c["error"])
    if not missed:
        pytest.skip("every case of the subset meets its expectations in the recordings")
    evaluators = {
        c["id"]: [k["evaluator"] for k in c["checks"] if not k["passed"]]
        for c in replay_report["cases"]
    }

    lenient = eval_project.run("-rx")
    strict = eval_project.run("--evals-strict")

    assert lenient.ret == 0
    assert lenient.parseoutcomes()["missed"] == len(missed)
    lenient.stdout.fnmatch_lines([f"*missed an expectation*{missed[0]}*"])
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = strict.parseoutcomes()
    assert outcomes["failed"] == len(missed) and "missed" not in outcomes
    for case_id in missed:
        strict.stdout.fnmatch_lines([f"FAILED *test_golden?{case_id}?*"])
        for evaluator in evaluators[case_id]:
            assert f"{evaluator}: expected" in strict.stdout.str()
    # The gate itself is unchanged by strict: no threshold, so it still passes.
    assert "evals gate: PASS" in strict.stdout.str()


def test_report_records_the_replay_settings(replay_report):
    assert replay_report["version"] == 1
    assert replay_report["meta"]["record_mode"] == "none"
    assert replay_report["meta"]["model"] == repo_ini()["evals_model"]
    assert replay_report["meta"]["answer_model"] == repo_ini()["evals_answer_model"]
    for case in replay_report["cases"]:
        assert case["stale_cassette"] is False and case["unplayed"] == 0
