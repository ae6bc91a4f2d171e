"""What Phoenix is told about a judge: its trust on each annotation (``with_trust``), what
``supportbot evaluate`` keeps of an eval run's annotation, the model that really answered,
and annotation configs compared with their bounds. (Read back from a real Phoenix in
tests/integration/test_phoenix_trust.py.)"""

from __future__ import annotations

import json

import pytest
from supportbot import evaluate

from evals_core.judges import RETRIEVAL_RELEVANCE, RetrievalRelevanceJudge, Verdict
from evals_core.llm import served_name
from phoenix_delivery.annotation_configs import _shape, configs
from phoenix_delivery.phoenix_payloads import (
    TRUST_KEYS,
    document_annotation,
    verdict_annotation,
    with_trust,
)
from pytest_supportbot_evals.evaluators.calibration import JudgePolicy, calibrate
from pytest_supportbot_evals.phoenix._annotations import judge_trust
from pytest_supportbot_evals.verdict.analysis import Analysis
from pytest_supportbot_evals.verdict.gate import GateResult

RUN = {"git_commit": "abc123", "golden_id": "tutorial-upgrade-premium", "suite": "supportbot"}


def verdict(label="relevant", score=1.0, position=None, model="served.gguf", kind="LLM"):
    return Verdict(
        RETRIEVAL_RELEVANCE, "00000000000000bb", "0" * 32, label, score, "", kind, model,
        document_position=position,
    )  # fmt: skip


def analysis(pairs, strict=False):
    policy = JudgePolicy(strict=strict)
    labels = ("relevant", "irrelevant")
    return Analysis(
        GateResult([], []), calibrations=[calibrate(pairs, RETRIEVAL_RELEVANCE, labels, policy)],
        policy=policy,
    )  # fmt: skip


#: The premium-upgrade golden: nothing answers it; the judge called both documents relevant.
UNTRUSTED = [("irrelevant", "relevant"), ("irrelevant", "relevant")]
TRUSTED = [("relevant", "relevant"), ("irrelevant", "irrelevant")] * 5


def test_an_untrusted_judge_and_the_metrics_from_its_verdicts_are_advisory():
    trust = judge_trust(analysis(UNTRUSTED))
    judge = trust[RETRIEVAL_RELEVANCE]
    assert judge["trust"] == "advisory"
    assert judge["calibration_accuracy"] == 0.0 and judge["calibration_pairs"] == 2
    assert judge["calibration_kappa"] is None  # one class of truth: kappa says nothing
    assert "accuracy decides" in judge["calibration"]
    assert trust["judged_mrr"] == {**judge, "derived_from": RETRIEVAL_RELEVANCE}
    assert "mrr" not in trust  # the ground truth's metrics are not the judge's
    assert judge_trust(analysis(UNTRUSTED, strict=True))[RETRIEVAL_RELEVANCE]["trust"] == (
        "untrusted"  # strict judges gate on it anyway; still not trusted
    )
    trusted = judge_trust(analysis(TRUSTED))[RETRIEVAL_RELEVANCE]
    assert trusted["trust"] == "trusted" and trusted["calibration_kappa"] == 1.0


@pytest.mark.parametrize("position", [None, 1])
def test_an_advisory_annotation_says_so_and_carries_no_score(position):
    trust = judge_trust(analysis(UNTRUSTED))[RETRIEVAL_RELEVANCE]
    build = verdict_annotation if position is None else document_annotation
    note = with_trust(build(verdict(position=position), dict(RUN)), trust)
    assert note["result"]["label"] == "relevant"  # the judge's own label
    assert "score" not in note["result"]  # Phoenix derives no ranking metric from it
    assert note["metadata"]["judge_score"] == 1.0
    assert note["result"]["explanation"].startswith(
        "ADVISORY: this judge is not trusted (kappa undefined: the human labels are all "
    )
    assert note["metadata"]["trust"] == "advisory" and note["metadata"]["model"] == "served.gguf"
    assert {k: note["metadata"][k] for k in RUN} == RUN
    if position is not None:
        assert note["document_position"] == position


def test_a_trusted_annotation_keeps_its_score_and_says_why():
    trust = judge_trust(analysis(TRUSTED))[RETRIEVAL_RELEVANCE]
    plain = verdict_annotation(verdict(), dict(RUN))
    note = with_trust(plain, trust)
    assert note["result"] == plain["result"]
    assert note["metadata"]["trust"] == "trusted" and note["metadata"]["calibration_kappa"] == 1.0
    assert with_trust(plain, None) is plain
    # trust given again replaces the old one (no stale calibration left behind)
    again = with_trust(note, {"trust": "uncalibrated"})
    assert {k for k in TRUST_KEYS if k in again["metadata"]} == {"trust"}


def test_evaluate_keeps_the_runs_metadata_and_the_same_judges_trust():
    trust = judge_trust(analysis(UNTRUSTED))[RETRIEVAL_RELEVANCE]
    run_note = with_trust(verdict_annotation(verdict(), {**RUN, "prompt_hash": "p1"}), trust)
    previous = {("00000000000000bb", RETRIEVAL_RELEVANCE, None): run_note["metadata"]}

    (note,), documents = evaluate.annotations([verdict()], {RETRIEVAL_RELEVANCE: "p1"}, previous)
    assert documents == []
    assert note["metadata"]["source"] == evaluate.SOURCE
    assert {k: note["metadata"][k] for k in RUN} == RUN  # golden id, commit, suite kept
    assert note["metadata"]["trust"] == "advisory" and "score" not in note["result"]

    # another judge (a changed prompt, or another model answered): its calibration is not ours
    for prompt, model in (("p2", "served.gguf"), ("p1", "other.gguf")):
        (note,), _ = evaluate.annotations(
            [verdict(model=model)], {RETRIEVAL_RELEVANCE: prompt}, previous
        )
        assert note["metadata"]["trust"] == "uncalibrated"
        assert "calibration_kappa" not in note["metadata"] and note["result"]["score"] == 1.0
        assert note["metadata"]["golden_id"] == RUN["golden_id"]
    # a span no run annotated, and a CODE verdict (nothing retrieved: irrelevant by rule)
    spans, documents = evaluate.annotations(
        [verdict(position=0), verdict("irrelevant", 0.0, kind="CODE", model=None)], {}, {}
    )
    assert documents[0]["metadata"]["trust"] == "uncalibrated"
    assert "trust" not in spans[0]["metadata"]


def test_the_judge_records_the_model_its_reply_says_answered(cassettes, run_golden):
    golden = "tutorial-refund"
    judge = RetrievalRelevanceJudge(cassettes.settings(), cassettes.judge_method())
    _, views, _ = run_golden(golden)
    retriever = next(v for v in views if v.kind == "RETRIEVER")
    with cassettes.replay(golden):
        verdicts = judge(retriever)
    replies = [r for step, _, _, r in cassettes.interactions(golden) if step.startswith("judge:")]
    served = {served_name(r["model"]) for r in replies}
    assert {v.model for v in verdicts} == served != {judge.model}


def test_served_name():
    assert served_name("/root/.cache/supportbot/gemma3-270m-q4_k_m.gguf") == (
        "gemma3-270m-q4_k_m.gguf"
    )
    assert served_name("gpt-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"
    assert served_name("HuggingFaceTB/SmolLM2-135M-Instruct") == (
        "HuggingFaceTB/SmolLM2-135M-Instruct"
    )


def test_the_tokens_config_has_an_upper_bound_and_a_missing_one_is_a_difference():
    (tokens,) = [c for c in configs() if c["name"] == "tokens"]
    assert (tokens["lower_bound"], tokens["upper_bound"]) == (0, 1_000_000)
    served = {**json.loads(json.dumps(tokens)), "id": "Q29uZmln", "lower_bound": 0.0}
    assert _shape(served) == _shape(tokens)
    assert _shape({k: v for k, v in tokens.items() if k != "upper_bound"}) != _shape(tokens)
