"""retrieval_overlap: the lexical judge of retrieved documents, and the compact label schemas."""

from __future__ import annotations

import pytest
from supportbot.classification import CLASSIFICATION_SCHEMA

from evals_core.llm import compact
from evals_core.spans import SpanView
from pytest_supportbot_evals.evaluators._overlap import (
    RETRIEVAL_OVERLAP,
    overlap,
    overlap_evaluator,
    overlap_verdicts,
    terms,
)
from pytest_supportbot_evals.evaluators.base import CODE, TurnRun
from pytest_supportbot_evals.evaluators.calibration import JudgePolicy
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.run.goldens import GoldenCase
from pytest_supportbot_evals.run.runner import CaseResult
from pytest_supportbot_evals.verdict.analysis import advisory_judges, calibrations

REFUND = "Q: How do I get a refund?\nA: Refunds are issued within 30 days of the return."
PASSWORD = "Q: How do I reset my password?\nA: Click 'Forgot password' on the login page."


def retriever(query: str, *docs: str) -> SpanView:
    attributes = {"input.value": query, "openinference.span.kind": "RETRIEVER"}
    for i, doc in enumerate(docs):
        attributes[f"retrieval.documents.{i}.document.content"] = doc
        attributes[f"retrieval.documents.{i}.document.id"] = f"faq-{i:03d}"
    return SpanView(
        "00000000000000bb", "2" * 32, "faq-retrieval", "RETRIEVER", "OK", None, attributes
    )


def test_terms_drop_function_words_and_strip_endings():
    assert terms("How can I get my refunds, please?") == {"refund"}
    assert terms("Cancelled orders and returning items") == {"cancell", "order", "return", "item"}


def test_overlap_is_the_share_of_the_query_words_in_the_document():
    assert overlap("refund for my order", REFUND) == pytest.approx(0.5)  # refund yes, order no
    assert overlap("refund", REFUND) == 1.0
    assert overlap("how are you", REFUND) == 0.0  # no content word at all


def test_verdicts_per_document_then_the_span():
    span = retriever("I need a refund for my return", REFUND, PASSWORD)
    verdict, first, second = overlap_verdicts(span)
    assert (verdict.judge, verdict.label, verdict.score) == (RETRIEVAL_OVERLAP, "relevant", 1.0)
    assert verdict.document_position is None and verdict.annotator_kind == CODE
    assert "1 of 2 retrieved documents judged relevant (positions [0])" in verdict.explanation
    assert (first.label, first.document_position, first.document_id) == ("relevant", 0, "faq-000")
    assert first.explanation == "shares 2 of the query's 2 words (100% >= 50%): refund, return"
    assert (second.label, second.score, second.document_id) == ("irrelevant", 0.0, "faq-001")
    assert second.explanation == "shares 0 of the query's 2 words (0% < 50%)"
    assert all(v.model is None and v.error is None for v in (verdict, first, second))


def test_nothing_retrieved_is_irrelevant_by_rule():
    (verdict,) = overlap_verdicts(retriever("refund"))
    assert (verdict.label, verdict.explanation) == (
        "irrelevant",
        "Nothing was retrieved: irrelevant by rule.",
    )


def golden(relevant_ids):
    return GoldenCase("g", "q", {}, relevant_ids=relevant_ids)


def test_the_evaluator_expects_what_relevant_ids_say_and_reads_its_span_verdict():
    evaluator = overlap_evaluator()
    assert evaluator.kind == CODE and evaluator.name in reference_registry()
    assert [evaluator.implied(golden(ids)) for ids in (("faq-001",), (), None)] == [
        "relevant",
        "irrelevant",
        None,
    ]
    run = TurnRun(
        "refund", "a", "faq", [retriever("refund", PASSWORD, REFUND)], golden(("faq-001",))
    )
    verdicts = evaluator.judge(run)
    assert [v.label for v in verdicts] == ["relevant", "irrelevant", "relevant"]
    assert evaluator.outcome(run, verdicts).actual == "relevant"
    empty = TurnRun("refund", "a", "faq", [], golden(("faq-001",)))
    assert evaluator.outcome(empty, evaluator.judge(empty)).actual is None


def result(case_id: str, relevant_ids, query: str, *docs: str) -> CaseResult:
    verdicts = overlap_verdicts(retriever(query, *docs))
    return CaseResult(case_id, query, verdicts=verdicts, relevant_ids=list(relevant_ids))


def test_calibrated_per_document_against_relevant_ids_and_gates_only_when_trusted():
    agreeing = [
        result("a", ["faq-000"], "refund please", REFUND, PASSWORD),
        result("b", ["faq-001"], "reset password", REFUND, PASSWORD),
    ]
    (cal,) = calibrations(agreeing, JudgePolicy())
    assert (cal.judge, cal.labels, cal.n) == (RETRIEVAL_OVERLAP, ("relevant", "irrelevant"), 4)
    assert cal.kappa == pytest.approx(1.0) and cal.trusted
    assert RETRIEVAL_OVERLAP not in advisory_judges([cal], JudgePolicy())
    # the truth says the other document: every verdict disagrees, kappa -1
    wrong = [
        result("a", ["faq-001"], "refund please", REFUND, PASSWORD),
        result("b", ["faq-000"], "reset password", REFUND, PASSWORD),
    ]
    (cal,) = calibrations(wrong, JudgePolicy())
    assert cal.kappa == pytest.approx(-1.0) and not cal.trusted
    assert RETRIEVAL_OVERLAP in advisory_judges([cal], JudgePolicy())


def test_compact_schema_lists_the_whole_replies():
    assert CLASSIFICATION_SCHEMA["enum"] == [{"category": "order_status"}, {"category": "faq"}]
    assert CLASSIFICATION_SCHEMA["properties"]["category"]["enum"] == ["order_status", "faq"]
    label = {"type": "object", "properties": {"label": {"type": "string", "enum": ["a", "b"]}}}
    assert compact(label)["enum"] == [{"label": "a"}, {"label": "b"}]
    free_text = {"type": "object", "properties": {"label": {"type": "string"}}}
    two = {"type": "object", "properties": {"a": {"enum": ["x"]}, "b": {"enum": ["y"]}}}
    assert compact(free_text) is free_text and compact(two) is two
