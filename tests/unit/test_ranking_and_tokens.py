"""Ranking metrics, the per-document relevance verdicts behind them, and token accounting."""

from __future__ import annotations

import json

import pytest

from evals_core.judges import Verdict, span_verdict
from evals_core.spans import SpanView
from pytest_supportbot_evals.evaluators import ranking
from pytest_supportbot_evals.evaluators.base import TurnRun
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.run.goldens import GoldenTurn
from pytest_supportbot_evals.run.results import CaseResult
from pytest_supportbot_evals.verdict import tokens


def retriever(*ids: str) -> SpanView:
    attributes = {}
    for i, doc in enumerate(ids):
        attributes[f"retrieval.documents.{i}.document.id"] = doc
        attributes[f"retrieval.documents.{i}.document.content"] = f"text of {doc}"
    return SpanView("r", "t", "faq-retrieval", "RETRIEVER", "OK", "a", attributes)


def doc_verdict(position: int, label: str | None) -> Verdict:
    score = None if label is None else float(label == "relevant")
    return Verdict(
        "retrieval_relevance", "r", "t", label, score, "", "LLM", "m",
        error=None if label else "cut off", document_position=position,
    )  # fmt: skip


def test_metrics_by_hand():
    assert ranking.precision([False, True]) == 0.5
    assert ranking.reciprocal_rank([False, True]) == 0.5
    assert ranking.reciprocal_rank([False, False]) == 0.0
    assert ranking.ndcg([True, False], 1) == 1.0
    assert ranking.ndcg([False, True], 1) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert ranking.ndcg([False, False], 1) == 0.0


def metric_checks(relevant_ids, docs, verdicts=()):
    agent = SpanView("a", "t", "support-agent", "AGENT", "OK")
    ids = None if relevant_ids is None else tuple(relevant_ids)
    turn = GoldenTurn("q", {}, relevant_ids=ids)
    run = TurnRun("q", "answer", "faq", [agent, retriever(*docs)], golden=turn)
    checks = reference_registry().checks(run, {}, list(verdicts))
    return {c.evaluator: c for c in checks}


def test_ground_truth_metrics_are_measured_where_the_golden_names_its_entries():
    checks = metric_checks(["faq-002"], ["faq-018", "faq-002"])
    assert checks["retrieval_hit"].actual == "hit"
    assert checks["precision_at_k"].score == 0.5
    assert checks["mrr"].score == 0.5
    assert checks["precision_at_k"].passed  # a measurement, never a miss
    assert "judged_mrr" not in checks  # no per-document verdicts: nothing judged to measure
    assert "precision_at_k" not in metric_checks(None, ["faq-018"])  # no truth: not measured
    # relevant_ids: [] says nothing answers it: every retrieved document is a miss
    nothing = metric_checks([], ["faq-010", "faq-005"])
    assert nothing["precision_at_k"].score == nothing["mrr"].score == 0.0
    assert "retrieval_hit" not in nothing  # no entry to hit
    # ... and retrieving nothing for it is right
    assert metric_checks([], [])["precision_at_k"].score == 1.0


def test_judged_metrics_come_from_the_per_document_verdicts():
    verdicts = [doc_verdict(0, "irrelevant"), doc_verdict(1, "relevant")]
    checks = metric_checks(None, ["faq-018", "faq-002"], verdicts)
    assert checks["judged_hit_rate"].score == 1.0
    assert checks["judged_mrr"].score == 0.5
    # a document the judge failed on: the judged ranking is not measured
    checks = metric_checks(None, ["x", "y"], [doc_verdict(0, "relevant"), doc_verdict(1, None)])
    assert "judged_mrr" not in checks


def test_the_span_verdict_derives_from_its_documents():
    span = retriever("a", "b")
    relevant = span_verdict(span, [doc_verdict(0, "irrelevant"), doc_verdict(1, "relevant")], "m")
    assert (relevant.label, relevant.score, relevant.document_position) == ("relevant", 1.0, None)
    assert "1 of 2" in relevant.explanation
    failed = span_verdict(span, [doc_verdict(0, "relevant"), doc_verdict(1, None)], "m")
    assert failed.label is None and "document 1" in failed.error
    nothing = span_verdict(retriever(), [], "m")  # nothing retrieved: irrelevant by rule
    assert (nothing.label, nothing.annotator_kind) == ("irrelevant", "CODE")


class Request:
    def __init__(self, step):
        self.headers = {"x-supportbot-step": step}


def reply(prompt, completion):
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    return {"body": {"string": json.dumps({"usage": usage}).encode()}}


def test_tokens_per_step_agent_and_judge_apart_and_priced():
    table = tokens.usage_of(
        [
            (Request("classify"), reply(100, 10)),
            (Request("faq_answer"), reply(200, 40)),
            (Request("judge:retrieval_relevance"), reply(120, 9)),
            (Request("judge:retrieval_relevance"), reply(110, 9)),
        ]
    )
    assert table["judge:retrieval_relevance"] == {"prompt": 230, "completion": 18, "calls": 2}
    assert tokens.split(table)["agent"] == {"prompt": 300, "completion": 50, "calls": 2}
    result = CaseResult("g", "q", tokens=table)
    priced = tokens.priced([result], {"m": (1.0, 2.0)}, "m", "other")
    assert priced["evals"]["agent"]["cost_usd"] == pytest.approx((300 + 100) / 1e6)
    assert priced["evals"]["judge"]["cost_usd"] is None  # no price for its model
    line = tokens.summary_lines(priced, "evals")[0]
    assert line.startswith("tokens: agent 350 (300 prompt + 50 completion, 2 calls, $0.0004)")


def run(run_id, prompt, completion=0):
    return CaseResult(
        run_id, "q", tokens={"faq_answer": {"prompt": prompt, "completion": completion, "calls": 1}}
    )


def test_token_growth_over_the_limit_fails_comparing_the_same_golden_runs():
    before = {"evals": {"runs": {"a": 500, "b": 500}}}
    now = [run("a", 650, 50), run("b", 700), run("new-golden", 5000)]  # new goldens: not paired
    failures, _ = tokens.growth(before, now, 0.25)
    assert failures == [
        "evals: agent tokens 1,000 -> 1,400 (+40.0%) over 2 golden run(s) also in the "
        "baseline, over the limit of +25% (evals_max_token_growth)"
    ]
    assert tokens.growth(before, now, 0.5)[0] == []
    steps = {"faq_answer": {"completion": 0, "cut": 0}}
    before["evals"]["steps_by_run"] = {"a": steps, "b": steps}
    assert tokens.growth(before, [run("a", 500)], 0.25) == ([], [])  # a narrowed run: like for like
    assert "no token figures" in tokens.growth({}, now, 0.25)[1][0]


@pytest.mark.parametrize("line", ["m=1", "=1,2", "m=a,b", "m=-1,2"])
def test_a_bad_price_line_is_refused(line):
    with pytest.raises(tokens.TokenSettingError, match="MODEL=INPUT,OUTPUT"):
        tokens.parse_prices([line], "ini evals_prices")
