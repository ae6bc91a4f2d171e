"""The ``evals`` marker (own goldens, thresholds, suite, cassettes); fixture overrides."""

import shutil
import textwrap

import yaml
from plugin_helpers import CASSETTE_DIR, output_of, tutorial_cases

from pytest_supportbot_evals.run.steps import recorded_step

MINE = "tutorial-order-shipped"
USER_MODULE = """
    import pytest

    pytestmark = pytest.mark.evals(
        goldens="my_goldens",
        thresholds={"tool_result": 1.01},
        suite="mine",
        cassettes="my_cassettes",
    )


    def test_mine(evals_result, evals_assert):
        evals_assert(evals_result)


    def test_case_ids(request, evals_case):
        assert request.node.callspec.id == evals_case.id
        assert evals_case.source.startswith(str(request.path.parent / "my_goldens"))
"""
FAKE_JUDGE_CONFTEST = '''
    import pytest
    from evals_core.judges import RETRIEVAL_RELEVANCE, Verdict


    class FakeJudge:
        """A fake retrieval_relevance judge for tests: a fixed verdict, no LLM call."""

        def __call__(self, span, seed=None):
            return Verdict(
                RETRIEVAL_RELEVANCE, span.span_id, span.trace_id, "relevant", 1.0,
                "FakeJudge: fixed verdict", "LLM", "fake-judge",
            )


    @pytest.fixture(scope="session")
    def supportbot_relevance_judge():
        return FakeJudge()
'''


def judge_requests(case_id):
    """How many requests of the committed cassette a relevance judge sent."""
    data = yaml.safe_load((CASSETTE_DIR / f"{case_id}.yaml").read_text(encoding="utf-8"))
    steps = [recorded_step(i["request"]["headers"]) or "" for i in data["interactions"]]
    return sum(step.startswith("judge:") for step in steps)


def test_marker_gives_its_own_suite_thresholds_and_cassettes(eval_project):
    tests = eval_project.path / "tests"
    (tests / "test_mine.py").write_text(textwrap.dedent(USER_MODULE), encoding="utf-8")
    eval_project.write_goldens(tutorial_cases([MINE]), name="mine.yaml", folder="tests/my_goldens")
    (tests / "my_cassettes").mkdir()
    shutil.copy(CASSETTE_DIR / f"{MINE}.yaml", tests / "my_cassettes" / f"{MINE}.yaml")
    eval_project.cassette(MINE).unlink()  # the marked tests must use tests/my_cassettes

    result, report = eval_project.run_with_report("-v", "tests/test_mine.py")

    result.stdout.fnmatch_lines(
        [
            f"tests/test_mine.py::test_mine?{MINE}? *",
            f"tests/test_mine.py::test_case_ids?{MINE}? PASSED*",
        ]
    )
    assert result.ret == 1
    assert result.parseoutcomes().get("failed", 0) == 1, output_of(result)  # the gate
    stat = report["evaluators"]["mine:tool_result"]
    assert (stat["suite"], stat["threshold"], stat["status"]) == ("mine", 1.01, "fail")
    assert [c["suite"] for c in report["cases"]] == ["mine"]
    rate = f"{stat['passed'] / stat['total']:.1%}"
    result.stdout.fnmatch_lines(
        [
            f"mine:tool_result * {stat['passed']}/{stat['total']} * {rate} * 101.0% * fail*",
            "evals gate: FAIL (1 case runs; 1/1 selected golden runs evaluated)",
            f"  tool_result pass rate {rate} (*) is below its threshold 101.0% (above 100%"
            "*) [[]mine[]]",
        ]
    )


def test_marker_thresholds_do_not_leak_into_the_default_suite(eval_project):
    tests = eval_project.path / "tests"
    (tests / "test_mine.py").write_text(textwrap.dedent(USER_MODULE), encoding="utf-8")
    eval_project.write_goldens(tutorial_cases([MINE]), name="mine.yaml", folder="tests/my_goldens")
    (tests / "my_cassettes").mkdir()
    shutil.copy(CASSETTE_DIR / f"{MINE}.yaml", tests / "my_cassettes" / f"{MINE}.yaml")

    result, report = eval_project.run_with_report()

    assert report["evaluators"]["tool_result"]["threshold"] is None
    assert report["evaluators"]["tool_result"]["status"] == "info"
    assert report["evaluators"]["mine:tool_result"]["status"] == "fail"
    assert [r for r in report["reasons"] if "pass rate" in r] == [
        r for r in report["reasons"] if r.endswith("[mine]")
    ]
    assert result.ret == 1


def test_overridden_judge_is_used_and_unplayed_judge_calls_are_reported(
    eval_project, replay_report
):
    (eval_project.path / "tests" / "conftest.py").write_text(
        textwrap.dedent(FAKE_JUDGE_CONFTEST), encoding="utf-8"
    )
    judged = sorted(
        c["id"]
        for c in replay_report["cases"]
        if any(v["judge"] == "retrieval_relevance" for v in c["verdicts"])
    )
    assert judged, "no case of the subset reached the relevance judge in the recordings"

    result, report = eval_project.run_with_report()

    assert result.ret == 0, output_of(result)
    for case in report["cases"]:
        verdicts = [v for v in case["verdicts"] if v["judge"] == "retrieval_relevance"]
        if case["id"] in judged:
            assert [(v["label"], v["explanation"]) for v in verdicts] == [
                ("relevant", "FakeJudge: fixed verdict")
            ]
            assert case["unplayed"] == judge_requests(case["id"]) > 0
        else:
            assert verdicts == [] and case["unplayed"] == 0
    listed = ", ".join(f"{i} ({judge_requests(i)})" for i in judged)
    result.stdout.fnmatch_lines([f"  recorded interactions no longer played: {listed}"])
    assert "missing cassettes" not in result.stdout.str()
