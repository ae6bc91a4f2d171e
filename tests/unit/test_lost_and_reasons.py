"""A golden run that lost its measurement is a drop (baseline.compare, the threshold), each
comparison says what it could detect, and the gate's reasons come in order of cause."""

import pytest

from pytest_supportbot_evals.evaluators.ranking import ranking_evaluators
from pytest_supportbot_evals.run.runner import CaseResult, Check
from pytest_supportbot_evals.verdict import baseline
from pytest_supportbot_evals.verdict.baseline import compare
from pytest_supportbot_evals.verdict.gate import compute

METRIC = "precision_at_k"


def run(case_id, *, value=None, lost=False, error=None, suite="supportbot", **labels):
    """A result with a metric check (``value``; ``lost``: expected, nothing measured) and label
    checks (``category=True``: passed)."""
    checks = [Check(name, "x", "x" if ok else "y") for name, ok in labels.items()]
    if value is not None:
        checks.append(Check(METRIC, "metric", f"{value:.3f}", score=value))
    if lost:
        checks.append(Check(METRIC, "metric", None, "nothing to measure", score=0.0))
    return CaseResult(
        case_id, f"q {case_id}", suite=suite, checks=[] if error else checks, error=error
    )


def metric_row(comparisons):
    (row,) = [c for c in comparisons if c.evaluator == METRIC]
    return row


FAQ = [f"faq-{n}" for n in range(1, 7)]


def test_a_lost_measurement_is_a_drop_to_zero_and_named():
    before = baseline.build([run(c, value=0.5, category=True) for c in FAQ], {})
    # faq-1..5 routed away from retrieval: the golden expects a ranking, none was measured
    now = [
        run(c, lost=c != "faq-6", value=0.5 if c == "faq-6" else None, category=True) for c in FAQ
    ]

    row = metric_row(compare(before, now))

    assert row.lost == ["faq-1", "faq-2", "faq-3", "faq-4", "faq-5"]
    assert row.pass_to_fail == [] and row.fail_to_pass == []
    assert row.verdict == "regressed" and row.p_value == pytest.approx(0.5**5)
    assert row.now == (0.5, 6) and row.baseline == (3.0, 6)
    assert row.flips() == "-0 +0 lost 5"
    assert "5 golden run(s) lost their measurement" in row.note
    assert row.to_dict()["lost"] == row.lost


def test_a_measurement_that_vanished_without_a_check_is_lost_too():
    # judged metrics of a golden that names no relevant ids: no check at all once unretrieved
    before = baseline.build([run(c, value=1.0) for c in FAQ[:4]], {})
    now = [run("faq-1", value=1.0), run("faq-2", category=True), run("faq-3", category=True)]

    row = metric_row(compare(before, now))

    # faq-4 was not run (narrowed with -k, or another shard): not lost, not paired
    assert row.lost == ["faq-2", "faq-3"]
    assert row.verdict == "inconclusive"
    assert row.detectable.paired == 3


def test_runs_that_errored_or_were_edited_are_not_lost():
    results = [run(c, value=1.0) for c in FAQ[:3]]
    before = baseline.build(results, {}, {f"supportbot:{c}": "old" for c in FAQ[:3]})
    now = [
        run("faq-1", value=1.0),
        run("faq-2", error="Cassette miss in golden 'faq-2'"),
        run("faq-3", category=True),  # edited since the baseline: not paired
    ]
    hashes = {"supportbot:faq-1": "old", "supportbot:faq-2": "old", "supportbot:faq-3": "new"}

    row = metric_row(compare(before, now, hashes))

    assert row.lost == []
    assert row.verdict == "unchanged"
    assert row.detectable.paired == 1


def test_an_evaluator_with_no_check_left_at_all_is_gone_not_lost():
    before = baseline.build([run(c, value=1.0) for c in FAQ], {})
    now = [run(c, category=True) for c in FAQ]

    row = metric_row(compare(before, now))

    assert row.lost == [] and row.verdict == "not comparable"


def test_each_comparison_says_what_it_could_detect():
    before = baseline.build(
        [run(c, category=c != "faq-6", tool_result=c in ("faq-1", "faq-2")) for c in FAQ], {}
    )
    now = [run(c, category=True, tool_result=True) for c in FAQ]

    rows = {c.evaluator: c for c in compare(before, now)}

    assert rows["category"].detectable.to_dict() == {
        "paired": 6,
        "can_drop": 5,
        "goldens": 5,
        "pass_rate": round(5 / 6, 4),
        "alpha": 0.05,
        "total_breakage_detectable": True,
    }
    assert rows["tool_result"].detectable.goldens is None  # 2 passed: 0.25 >= 0.05


# -- the threshold counts an unmeasured metric as a failure ----------------------------------


def test_an_unmeasured_metric_counts_against_the_threshold():
    results = [run("a", value=1.0), run("b", lost=True)]

    (stat,) = compute(results, {"supportbot": {METRIC: 0.6}}).stats

    assert (stat.passed, stat.total, stat.status) == (1.0, 2, "fail")
    assert results[1].failed_checks()[0].describe() == f"{METRIC}: nothing to measure"
    assert not results[1].passed  # shown as missed: the golden expected a measurement


def test_a_golden_that_names_relevant_entries_but_retrieved_nothing_scores_zero():
    from types import SimpleNamespace

    from pytest_supportbot_evals.evaluators.base import TurnRun

    golden = SimpleNamespace(relevant_ids=("faq-001",))
    turn = TurnRun("q", "a", "order_status", [], golden=golden)
    for evaluator in ranking_evaluators():
        found = evaluator.outcome(turn, [])
        if evaluator.name.startswith("judged_"):  # no relevance judge in this run
            assert found.score is None, evaluator.name
        else:
            assert (found.actual, found.score) == (None, 0.0), evaluator.name
            assert "nothing was retrieved" in found.detail
    nothing_expected = TurnRun("q", "a", "faq", [], golden=SimpleNamespace(relevant_ids=()))
    assert all(e.outcome(nothing_expected, []).score is None for e in ranking_evaluators())


def test_judged_metrics_are_expected_where_the_relevance_judge_runs():
    from types import SimpleNamespace

    from pytest_supportbot_evals.evaluators.base import TurnRun

    golden = SimpleNamespace(relevant_ids=("faq-001",))
    judges = {"retrieval_relevance": object()}
    turn = TurnRun("q", "a", "order_status", [], golden=golden, judges=judges)
    judged = [e for e in ranking_evaluators() if e.name.startswith("judged_")]
    assert all(e.outcome(turn, []).score == 0.0 for e in judged)


# -- reasons in order of cause ---------------------------------------------------------------


def stale(case_id):
    result = run(case_id, error=f"Cassette miss in golden {case_id!r}: ...")
    result.stale_cassette = True
    return result


def test_runs_that_could_not_be_evaluated_come_first_with_the_rerecord_command():
    results = [run("a", category=False), stale("b"), stale("c"), run("d", error="boom\nmore")]
    gate = compute(results, {"supportbot": {"category": 0.9}})

    first, second = gate.reasons()

    assert first.startswith("3 golden run(s) could not be evaluated: b, c (cassette misses")
    assert "re-record them with: evals record b c)" in first
    assert first.endswith("; d (boom)")
    assert second.startswith("category pass rate 0.0% (0/1) is below its threshold 90.0%")
    assert second.endswith(" over 1 of 4 selected golden runs (3 not evaluated)")


def test_a_complete_run_does_not_say_partial():
    gate = compute([run("a", category=False)], {"supportbot": {"category": 0.9}})
    (reason,) = gate.reasons()
    assert "selected golden runs" not in reason and gate.over("supportbot") == ""


def test_the_summary_names_at_most_twenty_missed_runs_and_counts_the_rest():
    from pytest_supportbot_evals.reporting.report import missed_lines

    results = [run(f"case-{n:02d}", label=False) for n in range(25)]
    (line,) = missed_lines(results, verbose=False)
    assert line.startswith("  25 golden run(s) missed an expectation")
    assert "case-19, and 5 more" in line and "case-20" not in line
    assert len(missed_lines(results, verbose=True)) == 25  # -v lists every one
