"""calibration.py and analysis.calibrations: judge agreement with the goldens' human labels.

Every accuracy and kappa below is worked out by hand in the comment above its assertion.
Cohen's kappa = (po - pe) / (1 - pe), with po the observed agreement and pe the agreement
expected by chance from the two raters' label shares.
"""

import pytest

from evals_core.judges import RETRIEVAL_RELEVANCE, TOOL_RESULT, Verdict
from pytest_supportbot_evals.evaluators.calibration import NO_VERDICT, JudgePolicy, calibrate
from pytest_supportbot_evals.run.runner import CaseResult
from pytest_supportbot_evals.verdict.analysis import calibrations

LABELS = ("relevant", "irrelevant")
R, I = "relevant", "irrelevant"  # noqa: E741


def pairs(*groups):
    """``(human, judge, count)`` groups -> the (human, judge) pairs."""
    return [(human, judge) for human, judge, count in groups for _ in range(count)]


def test_hand_checked_accuracy_and_kappa():
    # human relevant x6, irrelevant x4; the judge agrees on 5 relevant + 2 irrelevant.
    #                judge R  judge I
    #   human R         5        1      (6)
    #   human I         2        2      (4)
    #                  (7)      (3)     n = 10
    # po = (5 + 2) / 10 = 0.7
    # pe = 0.6 * 0.7 + 0.4 * 0.3 = 0.42 + 0.12 = 0.54
    # kappa = (0.7 - 0.54) / (1 - 0.54) = 0.16 / 0.46 = 0.3478...  < 0.4 -> untrusted
    c = calibrate(pairs((R, R, 5), (R, I, 1), (I, R, 2), (I, I, 2)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.n == 10
    assert c.no_verdict == 0
    assert c.accuracy == pytest.approx(0.7)
    assert c.kappa == pytest.approx(0.16 / 0.46)
    assert not c.trusted
    assert c.confusion == {R: {R: 5, I: 1}, I: {R: 2, I: 2}}
    d = c.to_dict()
    assert (d["pairs"], d["accuracy"], d["kappa"], d["trusted"]) == (10, 0.7, 0.3478, False)


def test_the_same_agreement_is_trusted_under_a_lower_minimum():
    c = calibrate(
        pairs((R, R, 5), (R, I, 1), (I, R, 2), (I, I, 2)),
        RETRIEVAL_RELEVANCE,
        LABELS,
        JudgePolicy(min_kappa=0.3),
    )
    assert c.trusted
    assert c.to_dict()["min_kappa"] == 0.3


def test_a_judge_that_always_says_relevant_has_kappa_zero_on_a_balanced_set():
    # po = 5/10 = 0.5; judge shares R 1.0, I 0.0: pe = 0.5 * 1 + 0.5 * 0 = 0.5; kappa = 0 / 0.5
    c = calibrate(pairs((R, R, 5), (I, R, 5)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.accuracy == pytest.approx(0.5)
    assert c.kappa == pytest.approx(0.0)
    assert not c.trusted
    assert "UNTRUSTWORTHY" in c.lines()[0]


def test_perfect_agreement_has_kappa_one_and_is_trusted():
    # po = 1; pe = 0.5 * 0.5 + 0.5 * 0.5 = 0.5; kappa = 0.5 / 0.5 = 1
    c = calibrate(pairs((R, R, 3), (I, I, 3)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.accuracy == pytest.approx(1.0)
    assert c.kappa == pytest.approx(1.0)
    assert c.trusted
    assert "-> trusted" in c.lines()[0]


def test_perfect_anti_agreement_has_kappa_minus_one():
    # po = 0; pe = 0.5 * 0.5 + 0.5 * 0.5 = 0.5; kappa = -0.5 / 0.5 = -1
    c = calibrate(pairs((R, I, 4), (I, R, 4)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.accuracy == 0.0
    assert c.kappa == pytest.approx(-1.0)
    assert not c.trusted


def test_no_verdict_counts_as_a_disagreement_and_is_listed_apart():
    # human relevant x6: judge R 4, I 1, no verdict 1; human irrelevant x4: judge I 3, R 1.
    # po = (4 + 3) / 10 = 0.7
    # judge shares: R 5/10, I 4/10, no verdict 1/10 (no human label matches it)
    # pe = 0.6 * 0.5 + 0.4 * 0.4 = 0.30 + 0.16 = 0.46
    # kappa = (0.7 - 0.46) / (1 - 0.46) = 0.24 / 0.54 = 0.4444...  >= 0.4 -> trusted
    c = calibrate(
        pairs((R, R, 4), (R, I, 1), (R, None, 1), (I, I, 3), (I, R, 1)),
        RETRIEVAL_RELEVANCE,
        LABELS,
    )
    assert c.n == 10
    assert c.no_verdict == 1
    assert c.confusion[R] == {R: 4, I: 1, NO_VERDICT: 1}
    assert c.accuracy == pytest.approx(0.7)
    assert c.kappa == pytest.approx(0.24 / 0.54)
    assert c.trusted
    assert c.to_dict()["no_verdict"] == 1

    header, relevant_row, irrelevant_row = c.lines()[1:]
    assert header.split()[-2:] == ["(no", "verdict)"]
    assert relevant_row.split() == ["relevant", "4", "1", "1"]
    assert irrelevant_row.split() == ["irrelevant", "1", "3", "0"]


def test_a_label_outside_the_choices_is_no_verdict():
    c = calibrate([(R, "maybe"), (I, I)], RETRIEVAL_RELEVANCE, LABELS)
    assert c.confusion[R] == {NO_VERDICT: 1}
    assert c.no_verdict == 1
    assert c.accuracy == pytest.approx(0.5)


def test_a_human_label_outside_the_choices_is_left_out():
    c = calibrate([("unsure", R), (R, R), (I, I)], RETRIEVAL_RELEVANCE, LABELS)
    assert c.n == 2
    assert "unsure" not in c.confusion


def test_nothing_to_calibrate_has_no_accuracy_or_kappa_and_is_untrusted():
    c = calibrate([], RETRIEVAL_RELEVANCE, LABELS)
    assert c.n == 0
    assert c.accuracy is None
    assert c.kappa is None
    assert not c.trusted
    d = c.to_dict()
    assert (d["accuracy"], d["kappa"], d["trusted"]) == (None, None, False)
    assert "accuracy=-, kappa=-" in c.lines()[0]


def test_one_class_of_human_labels_leaves_kappa_undefined_and_accuracy_decides():
    # all humans say R and the judge always says R: pe = 1 * 1 = 1, kappa = 0 / 0. The judge
    # agreed every time: trusted on accuracy (100% >= 80%), and the summary says why.
    c = calibrate(pairs((R, R, 4)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.accuracy == pytest.approx(1.0)
    assert c.kappa is None
    assert c.one_class
    assert c.trusted
    assert "one class only" in c.why() and "accuracy decides: 100% >= 80%" in c.why()
    assert "UNTRUSTWORTHY" not in c.lines()[0] and "disagree" not in c.lines()[0]


def test_one_class_with_a_judge_that_disagrees_is_untrusted_on_accuracy():
    # humans all R; the judge says R 3 of 5 times: kappa would be 0 whatever the judge does
    # (pe = po), so it is undefined; accuracy 60% < 80% -> untrusted.
    c = calibrate(pairs((R, R, 3), (R, I, 2)), RETRIEVAL_RELEVANCE, LABELS)
    assert c.kappa is None and not c.trusted
    assert "accuracy decides: 60% < 80%" in c.why()
    assert c.to_dict()["one_class"] is True


# -- analysis.calibrations over case results -------------------------------------------------


def verdict(label, judge=RETRIEVAL_RELEVANCE, error=None):
    return Verdict(
        judge=judge,
        span_id="00000000000000aa",
        trace_id="0" * 32,
        label=label,
        score=None if label is None else float(label == R),
        explanation="",
        annotator_kind="LLM",
        model="m",
        error=error,
    )


def case(case_id, human=None, verdicts=()):
    return CaseResult(
        case_id,
        "q",
        human_labels={RETRIEVAL_RELEVANCE: human} if human else {},
        verdicts=list(verdicts),
    )


def test_calibrations_pair_human_labels_with_the_judges_verdicts():
    results = [
        case("a", R, [verdict(R)]),
        case("b", R, [verdict(R), verdict("found", judge=TOOL_RESULT)]),
        case("c", R, [verdict(None, error="timeout")]),  # judge failed: no verdict
        case("d", I, [verdict(I)]),
        case("e", I, [verdict(R)]),
        case("f", None, [verdict(R)]),  # no human label: not calibrated
        case("g", I, []),  # not judged (no retrieval span): not calibrated
    ]
    # pairs: (R,R) (R,R) (R,None) (I,I) (I,R)
    # po = 3/5 = 0.6; judge shares R 3/5, I 1/5, none 1/5; human R 3/5, I 2/5
    # pe = 0.6 * 0.6 + 0.4 * 0.2 = 0.36 + 0.08 = 0.44; kappa = 0.16 / 0.56 = 0.2857...
    (c,) = calibrations(results, JudgePolicy())
    assert c.judge == RETRIEVAL_RELEVANCE
    assert c.labels == LABELS
    assert c.n == 5
    assert c.no_verdict == 1
    assert c.confusion == {R: {R: 2, NO_VERDICT: 1}, I: {I: 1, R: 1}}
    assert c.accuracy == pytest.approx(0.6)
    assert c.kappa == pytest.approx(0.16 / 0.56)
    assert c.min_kappa == 0.4
    assert not c.trusted


def test_calibrations_pass_the_minimum_kappa_on():
    results = [case("a", R, [verdict(R)]), case("b", I, [verdict(I)])]
    (c,) = calibrations(results, JudgePolicy(min_kappa=1.0))
    assert c.kappa == pytest.approx(1.0)
    assert c.min_kappa == 1.0
    assert c.trusted


def test_no_labelled_and_judged_case_means_no_calibration():
    assert calibrations([], JudgePolicy()) == []
    assert calibrations([case("a", None, [verdict(R)]), case("b", R, [])], JudgePolicy()) == []
