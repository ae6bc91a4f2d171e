"""The answer check (``answer_grounded``): the answer against what the turn's own spans found.

Spans are built the way SupportBot and a team's agent make them (OpenInference attributes), and
the rule is applied as the plugin applies it (``answer_checks.evidence_of`` then ``check``).
"""

from __future__ import annotations

import json

import pytest

from evals_core.spans import SpanView
from pytest_supportbot_evals.config.vocabulary import GoldenTurn
from pytest_supportbot_evals.evaluators import _answer_checks as answer_checks
from pytest_supportbot_evals.evaluators._answers import answer_evaluators
from pytest_supportbot_evals.evaluators.base import Registry, TurnRun

SHIPPED = {
    "orderId": "ORD-12345",
    "status": "shipped",
    "carrier": "FedEx",
    "trackingNumber": "1234567890",
    "eta": "December 11, 2025",
}
REFUNDS = (
    "faq-002",
    "Unused items can be returned within 30 days for a full refund. Contact support with your "
    "order number to start the refund.",
)


def agent() -> SpanView:
    return SpanView("a1", "t1", "support-agent", "AGENT", "OK")


def tool(output: dict | str, order: str = "ORD-12345", status: str = "OK") -> SpanView:
    given = json.dumps({"orderId": order})
    value = output if isinstance(output, str) else json.dumps(output)
    attributes = {"output.value": value, "tool.parameters": given, "input.value": given}
    return SpanView("s1", "t1", "lookupOrderStatus", "TOOL", status, "a1", attributes)


def retriever(*documents: tuple[str, str]) -> SpanView:
    attributes = {}
    for i, (doc_id, content) in enumerate(documents):
        attributes[f"retrieval.documents.{i}.document.id"] = doc_id
        attributes[f"retrieval.documents.{i}.document.content"] = content
    return SpanView("r1", "t1", "faq-retrieval", "RETRIEVER", "OK", "a1", attributes)


NOT_FOUND = tool({"error": "Order ORD-28764 not found in our system"}, "ORD-28764", "ERROR")


def judge(query: str, answer: str, *spans: SpanView) -> tuple[str, str] | None:
    evidence = answer_checks.evidence_of([agent(), *spans])
    return answer_checks.check(query, answer, evidence)


# -- the examples ------------------------------------------------------------------


def test_an_answer_that_ignores_what_the_tool_found_is_unsupported():
    label, why = judge("Where is my order ORD-12345?", "I'm in the US.", tool(SHIPPED))
    assert label == "unsupported"
    assert "states none of what lookupOrderStatus returned" in why and "'shipped'" in why


def test_yes_when_the_order_tool_failed_contradicts_it():
    label, why = judge("Was my order ORD-28764 delivered?", "Yes, it was.", NOT_FOUND)
    assert label == "contradicts"
    assert "lookupOrderStatus failed (Order ORD-28764 not found in our system)" in why


# -- a tool's result -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("Your order has shipped with FedEx.", "status 'shipped'"),
        ("It should arrive on December 11.", "eta 'December 11, 2025'"),
        ("The tracking number is 1234567890.", "trackingNumber '1234567890'"),
    ],
)
def test_an_answer_stating_a_returned_value_is_grounded(answer, field):
    label, why = judge("Where is my order ORD-12345?", answer, tool(SHIPPED))
    assert (label, why) == ("grounded", f"the answer states lookupOrderStatus's {field}")


def test_the_order_id_it_was_asked_for_is_no_evidence():
    answer = "Yes, I can get the tracking number for ORD-12345."
    label, _ = judge("Can I get the tracking number for ORD-12345?", answer, tool(SHIPPED))
    assert label == "unsupported"


def test_yes_to_a_question_naming_the_returned_value_is_grounded_and_no_contradicts():
    query = "Has ORD-12345 shipped yet?"
    assert judge(query, "Yes, it has.", tool(SHIPPED))[0] == "grounded"
    label, why = judge(query, "No, not yet.", tool(SHIPPED))
    assert (label, why) == ("contradicts", "the answer denies lookupOrderStatus's status 'shipped'")


def test_not_found_when_the_tool_found_the_order_contradicts():
    label, why = judge("Where is ORD-12345?", "It's not found.", tool(SHIPPED))
    assert label == "contradicts" and "says it was not found" in why


def test_a_number_the_tool_did_not_return_contradicts():
    answer = "It shipped and arrives on December 14."
    label, why = judge("Where is ORD-12345?", answer, tool(SHIPPED))
    assert (label, why) == (
        "contradicts",
        "the answer states '14', which lookupOrderStatus did not return",
    )


def test_a_failed_tool_is_grounded_only_when_the_answer_says_so():
    query = "Was my order ORD-28764 delivered?"
    said = "I couldn't find order ORD-28764; please check the order number."
    assert judge(query, said, NOT_FOUND)[0] == "grounded"
    assert judge(query, "We will ship it in 2-3 business days.", NOT_FOUND)[0] == "contradicts"
    label, why = judge(query, "I am in the order system.", NOT_FOUND)
    assert label == "unsupported" and "the answer does not say so" in why


def test_a_tool_whose_output_is_plain_text_is_checked_as_one_value():
    manual = SpanView(
        "s1",
        "t1",
        "findManual",
        "TOOL",
        "OK",
        "a1",
        {"output.value": "Descale monthly with vinegar."},
    )
    assert judge("How do I clean my kettle?", "Please: Descale monthly with vinegar.", manual)[
        0
    ] == ("grounded")
    assert judge("How do I clean my kettle?", "Please use soap.", manual)[0] == "unsupported"


# -- retrieved documents ---------------------------------------------------------------------


def test_an_answer_from_the_documents_is_grounded_and_names_the_document():
    answer = "Unused items can be returned within 30 days for a full refund."
    label, why = judge("How can I get a refund?", answer, retriever(REFUNDS))
    assert label == "grounded" and "faq-002" in why


def test_an_answer_not_in_the_documents_is_unsupported_and_says_which_words():
    answer = "Click the download button in the upper right corner of the screen."
    label, why = judge("How can I get a refund?", answer, retriever(REFUNDS))
    assert label == "unsupported" and "0 of" in why and "button" in why


def test_a_number_not_in_the_documents_contradicts_them():
    answer = "Unused items can be returned within 60 days for a full refund."
    label, why = judge("How can I get a refund?", answer, retriever(REFUNDS))
    assert (label, why) == (
        "contradicts",
        "the answer states '60', which no retrieved document (faq-002) has",
    )


def test_echoing_the_question_is_unsupported_and_declining_is_grounded():
    query = "Where do I enter a discount code at checkout?"
    assert judge(query, "Enter the discount code at checkout.", retriever(REFUNDS)) == (
        "unsupported",
        "the answer states nothing beyond the question's own words",
    )
    declined = "I'm sorry, I don't have that information; I can connect you with a human agent."
    assert judge(query, declined, retriever(REFUNDS))[0] == "grounded"


def test_yes_claims_what_the_question_asks():
    paypal = ("faq-004", "We accept Visa, Mastercard, American Express and PayPal.")
    assert judge("Can I pay with PayPal?", "Yes, you can.", retriever(paypal))[0] == "grounded"
    assert judge("Do you have a loyalty programme?", "Yes.", retriever(paypal))[0] == "unsupported"


# -- nothing to check against, several sources, the registry ---------------------------------


def test_a_turn_with_neither_tool_nor_retrieval_has_nothing_to_check():
    assert judge("Tell me a joke", "Why did the chicken cross the road?") is None


def test_a_contradiction_in_any_source_wins():
    answer = "Your order shipped; refunds take 60 days."
    assert judge("Where is ORD-12345?", answer, tool(SHIPPED), retriever(REFUNDS))[0] == (
        "contradicts"
    )


def run(answer: str, *spans: SpanView, **golden) -> TurnRun:
    turn = GoldenTurn("Where is my order ORD-12345?", {}, **golden)
    return TurnRun(turn.query, answer, None, [agent(), *spans], golden=turn)


def test_the_check_is_implied_where_there_is_evidence_and_named_expectations_are_missed():
    registry = Registry(answer_evaluators())
    found = run("I'm in the US.", tool(SHIPPED))
    verdicts = registry.judge(found)
    (verdict,) = verdicts
    assert (verdict.label, verdict.score, verdict.span_id, verdict.annotator_kind) == (
        "unsupported",
        0.0,
        "a1",  # annotated on the agent span
        "CODE",
    )
    (check,) = registry.checks(found, {}, verdicts)
    assert (check.evaluator, check.expected, check.actual) == (
        "answer_grounded",
        "grounded",
        "unsupported",
    )
    nothing = run("I'm in the US.")
    assert registry.checks(nothing, {}, registry.judge(nothing)) == []  # not checked
    (named,) = registry.checks(nothing, {"answer_grounded": "grounded"}, [])
    assert named.actual is None and "nothing to check the answer against" in named.detail


def test_answer_contains_and_matches_are_checked_where_the_golden_gives_them():
    registry = Registry(answer_evaluators())
    golden = {"answer_contains": ("SHIPPED", "fedex"), "answer_matches": r"track\w* \d+"}
    good = run("It has shipped with FedEx, tracking 1234567890.", tool(SHIPPED), **golden)
    checks = {c.evaluator: c for c in registry.checks(good, {}, registry.judge(good))}
    assert checks["answer_contains"].passed and checks["answer_matches"].passed
    bad = run("It has shipped.", tool(SHIPPED), **golden)
    checks = {c.evaluator: c for c in registry.checks(bad, {}, registry.judge(bad))}
    assert checks["answer_contains"].actual == "missing"
    assert checks["answer_contains"].detail == "the answer lacks 'fedex'"
    assert checks["answer_matches"].actual == "no_match"
