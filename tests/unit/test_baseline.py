"""baseline.py: the exact McNemar verdict, per-golden comparison, fingerprints and loading.

Every p-value below is worked out by hand: with only pass->fail flips (``worse``) and no
fail->pass flips, the one-sided exact binomial p-value is 0.5 ** worse.
"""

import json

import pytest

from pytest_supportbot_evals.run.runner import CaseResult, Check
from pytest_supportbot_evals.verdict import baseline
from pytest_supportbot_evals.verdict.baseline import (
    BaselineError,
    compare,
    decide,
    load,
    mismatches,
)

# -- decide ----------------------------------------------------------------------------------


def test_no_flips_is_unchanged_without_a_test():
    assert decide(0, 0, 24) == ("unchanged", None, "")


def test_five_pass_to_fail_flips_are_a_significant_regression():
    verdict, p_value, note = decide(5, 0, 24)
    # P(X >= 5 | n=5, p=1/2) = 1/32
    assert verdict == "regressed"
    assert p_value == pytest.approx(0.03125)
    assert note == ""


def test_five_fail_to_pass_flips_are_a_significant_improvement():
    verdict, p_value, note = decide(0, 5, 24)
    assert verdict == "improved"
    assert p_value == pytest.approx(0.03125)
    assert note == ""


def test_four_flips_are_not_yet_significant():
    # 0.5 ** 4 = 0.0625 >= 0.05; doubling the runs gives 0.5 ** 8 < 0.05: 24 more runs.
    verdict, p_value, note = decide(4, 0, 24)
    assert verdict == "inconclusive"
    assert p_value == pytest.approx(0.0625)
    assert "about 24 more paired case runs" in note
    assert "--evals-repeat 2" in note


def test_one_flip_is_inconclusive_and_says_what_would_decide_it():
    # 0.5 ** 1 = 0.5; the smallest factor with 0.5 ** factor < 0.05 is 5 (1/32): 4 x 24 = 96 more
    verdict, p_value, note = decide(1, 0, 24)
    assert verdict == "inconclusive"
    assert p_value == pytest.approx(0.5)
    assert "about 96 more paired case runs" in note
    assert "--evals-repeat 5" in note


def test_one_improvement_is_inconclusive_the_same_way():
    verdict, p_value, note = decide(0, 1, 24)
    assert verdict == "inconclusive"
    assert p_value == pytest.approx(0.5)
    assert "--evals-repeat 5" in note


def test_balanced_flips_are_inconclusive_because_they_balance_out():
    # P(X >= 3 | n=6) = (20 + 15 + 6 + 1) / 64
    verdict, p_value, note = decide(3, 3, 24)
    assert verdict == "inconclusive"
    assert p_value == pytest.approx(42 / 64)
    assert note == "flips balance out"


def test_nearly_balanced_flips_that_no_repetition_decides_are_too_close():
    # 2100 vs 2000 flips (factor 100) is still not significant at 5% (z = 100/64 ~ 1.56)
    verdict, _, note = decide(21, 20, 48)
    assert verdict == "inconclusive"
    assert note == "21 vs 20 flips: too close"


# -- compare ---------------------------------------------------------------------------------


def result(case_id, repetition=0, suite="evals", **passed):
    """A CaseResult whose checks pass or fail as given, e.g. ``retrieval_hit=False``."""
    checks = [
        Check(evaluator, "hit", "hit" if ok else "miss", "") for evaluator, ok in passed.items()
    ]
    return CaseResult(
        case_id, f"query of {case_id}", suite=suite, repetition=repetition, checks=checks
    )


def saved(*results, fingerprint=None):
    return baseline.build(results, fingerprint or {})


FAQ = [f"faq-{n}" for n in range(1, 9)]


def by_evaluator(comparisons):
    return {(c.suite, c.evaluator): c for c in comparisons}


def test_compare_lists_each_flipped_golden_by_id():
    before = saved(*(result(case, retrieval_hit=True, label=True) for case in FAQ))
    broken = {"faq-2", "faq-3", "faq-5", "faq-7", "faq-8"}
    now = [result(case, retrieval_hit=case not in broken, label=True) for case in FAQ]

    found = by_evaluator(compare(before, now))

    hit = found[("evals", "retrieval_hit")]
    assert hit.verdict == "regressed"
    assert hit.pass_to_fail == sorted(broken)
    assert hit.fail_to_pass == []
    assert hit.baseline == (8, 8)
    assert hit.now == (3, 8)
    assert hit.p_value == pytest.approx(0.03125)
    assert hit.to_dict()["p_value"] == 0.03125
    assert found[("evals", "label")].verdict == "unchanged"


def test_compare_lists_fail_to_pass_flips_and_keeps_evaluator_order():
    before = saved(
        result("a", label=False, tool_result=True), result("b", label=True, tool_result=True)
    )
    now = [
        result("a", label=True, tool_result=True),
        result("b", label=True, tool_result=False),
    ]

    comparisons = compare(before, now)

    assert [c.evaluator for c in comparisons] == ["label", "tool_result"]  # EVALUATORS order
    category, tool = comparisons
    assert (category.pass_to_fail, category.fail_to_pass) == ([], ["a"])
    assert (tool.pass_to_fail, tool.fail_to_pass) == (["b"], [])
    assert category.verdict == tool.verdict == "inconclusive"


def test_compare_notes_cases_not_in_both_runs_and_leaves_them_out():
    before = saved(*(result(case, retrieval_hit=True) for case in ["a", "b", "old"]))
    now = [
        result("a", retrieval_hit=False),
        result("b", retrieval_hit=True),
        result("new", retrieval_hit=False),
    ]

    (hit,) = compare(before, now)

    assert hit.pass_to_fail == ["a"]  # "new" failed too, but it has no baseline to flip from
    assert hit.baseline == (3, 3)
    assert hit.now == (1, 3)
    assert hit.verdict == "inconclusive"
    assert hit.note.endswith("; 2 case(s) not in both runs: not compared")
    assert "--evals-repeat" in hit.note  # the inconclusive note comes first


def test_compare_notes_unpaired_cases_even_without_flips():
    before = saved(result("a", label=True))
    now = [result("a", label=True), result("b", label=True)]

    (category,) = compare(before, now)

    assert category.verdict == "unchanged"
    assert category.note == "1 case(s) not in both runs: not compared"


def test_compare_pairs_repetitions_by_run_id():
    before = saved(result("a", label=True), result("a", 1, label=True))
    now = [result("a", label=True), result("a", 1, label=False)]

    (category,) = compare(before, now)

    assert category.pass_to_fail == ["a@1"]
    assert category.note.startswith("about")  # no unpaired note: both repetitions paired


def test_compare_reports_an_evaluator_that_is_gone_from_the_run():
    before = saved(result("a", label=True, order_lookup=True))
    now = [result("a", label=True)]

    found = by_evaluator(compare(before, now))

    gone = found[("evals", "order_lookup")]
    assert gone.now == (0, 0)
    assert gone.verdict == "not comparable"
    assert gone.note == "no golden run in both runs; 1 case(s) not in both runs: not compared"


def test_a_baseline_with_no_golden_in_common_is_not_comparable():
    before = saved(result("a", label=True), result("b", label=False))
    now = [result("x", label=True), result("y", label=True)]

    (row,) = compare(before, now)

    assert row.verdict == "not comparable" and row.p_value is None
    assert row.pass_to_fail == row.fail_to_pass == []


def test_a_golden_edited_since_the_baseline_is_not_paired():
    results = [result("a", label=True), result("b", label=True)]
    before = baseline.build(results, {}, {"evals:a": "old-a", "evals:b": "same"})
    now = [result("a", label=False), result("b", label=False)]

    (row,) = compare(before, now, {"evals:a": "new-a", "evals:b": "same"})

    assert row.pass_to_fail == ["b"]  # a answered another question before: not a flip
    assert "1 golden(s) edited since the baseline: not compared" in row.note


def test_compare_keeps_suites_apart():
    before = saved(result("a", label=True), result("a", suite="other", label=True))
    now = [result("a", label=True), result("a", suite="other", label=False)]

    found = by_evaluator(compare(before, now))

    assert found[("evals", "label")].verdict == "unchanged"
    assert found[("other", "label")].pass_to_fail == ["a"]


def test_compare_with_an_empty_baseline_compares_nothing():
    # A suite the baseline does not hold is not compared (not "unchanged", not "regressed").
    assert compare({"version": 1, "outcomes": {}}, [result("a", label=True)]) == []


def test_compare_ignores_suites_the_baseline_does_not_hold():
    old = saved(result("a", label=True))
    now = [result("a", label=True), result("b", suite="robustness", label=False)]
    assert [(c.suite, c.evaluator) for c in compare(old, now)] == [("evals", "label")]


def test_compare_ignores_suites_this_run_did_not_run():
    old = saved(result("a", label=True), result("b", suite="robustness", label=True))
    assert [c.suite for c in compare(old, [result("a", label=True)])] == ["evals"]


# -- mismatches ------------------------------------------------------------------------------

PRINT = {
    "model": "m",
    "judge_model": "j",
    "judge_prompt": "jp1",
    "agent_prompts": {"classify": "c1", "faq_answer": "f1"},
    "judge": {"prompt": "jp1", "max_tokens": 24, "include_explanation": False},
    "agent_steps": {"classify": {"max_tokens": 24}, "answer": {"max_tokens": 96}},
    "goldens": {"evals": "g1"},
}


def test_identical_fingerprints_have_no_mismatch():
    assert mismatches({"fingerprint": PRINT}, dict(PRINT)) == []


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("judge_model", "other", "judge model changed"),
        ("judge_prompt", "other", "judge prompt changed"),
        ("goldens", {"evals": "g2"}, "golden set changed (evals)"),
        ("model", "other", "model changed"),
        (
            "judge",
            {"prompt": "jp1", "max_tokens": 64, "include_explanation": True},
            "the judge changed (include_explanation, max_tokens)",
        ),
        (
            "agent_steps",
            {"classify": {"max_tokens": 24}, "answer": {"max_tokens": 128}},
            "the agent's step settings changed (answer)",
        ),
    ],
)
def test_each_fingerprint_field_names_its_change(key, value, why):
    notes = mismatches({"fingerprint": PRINT}, {**PRINT, key: value})
    assert len(notes) == 1
    assert why in notes[0]


def test_a_suite_without_baseline_is_named():
    now = {**PRINT, "goldens": {"evals": "g1", "robustness": "r1"}}
    assert mismatches({"fingerprint": PRINT}, now) == [
        "no baseline for suite(s) robustness: not compared"
    ]


def test_changed_new_and_removed_agent_prompts_are_named():
    now = {**PRINT, "agent_prompts": {"classify": "c2", "escalate": "e1"}}
    notes = mismatches({"fingerprint": PRINT}, now)
    assert notes == [
        "agent prompt(s) changed: classify, escalate, faq_answer (the change under test?)"
    ]


def test_all_mismatches_are_listed_together():
    now = {
        "model": "m2",
        "judge_model": "j2",
        "judge_prompt": "jp2",
        "agent_prompts": {"classify": "c2", "faq_answer": "f2"},
        "judge": PRINT["judge"],
        "agent_steps": PRINT["agent_steps"],
        "goldens": {"evals": "g2"},
    }
    notes = " | ".join(mismatches({"fingerprint": PRINT}, now))
    for why in (
        "judge model changed",
        "judge prompt changed",
        "golden set changed",
        "agent's model changed",
        "classify, faq_answer",
    ):
        assert why in notes


# -- load ------------------------------------------------------------------------------------


def assert_names_file_and_fix(error, path):
    message = str(error.value)
    assert str(path) in message
    assert "--evals-update-baseline" in message


def test_load_of_a_missing_file(tmp_path):
    path = tmp_path / "none.json"
    with pytest.raises(BaselineError, match="does not exist") as error:
        load(path)
    assert_names_file_and_fix(error, path)


def test_load_of_bad_json(tmp_path):
    path = tmp_path / "b.json"
    path.write_text("{not json")
    with pytest.raises(BaselineError, match="cannot be read") as error:
        load(path)
    assert_names_file_and_fix(error, path)


@pytest.mark.parametrize("content", ['{"version": 99}', "[]", '"text"'])
def test_load_of_another_version_or_shape(tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match="version 1") as error:
        load(path)
    assert_names_file_and_fix(error, path)


def test_load_of_a_file_that_is_not_utf8_is_a_baseline_error(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(b'\xff\xfe{"version": 1}')
    with pytest.raises(BaselineError) as error:
        load(path)
    assert_names_file_and_fix(error, path)


def test_a_written_baseline_loads_back(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(saved(result("a", label=True), fingerprint=PRINT)))
    data = load(path)
    assert data["outcomes"] == {"evals:label": {"a": True}}
    assert data["fingerprint"] == PRINT
