"""The two judges and SpanView, the span shape they read."""

import json

import pytest
from supportbot.evaluate import judge_spans, judges_for

from evals_core.judges import (
    RETRIEVAL_RELEVANCE,
    TOOL_RESULT,
    RetrievalRelevanceJudge,
    Verdict,
    tool_result,
)
from evals_core.spans import SpanView, flatten

CHOICES = ("relevant", "irrelevant")


def tool_span(output, status="OK", span_id="00000000000000aa"):
    return SpanView(
        span_id=span_id,
        trace_id="0" * 31 + "1",
        name="lookupOrderStatus",
        kind="TOOL",
        status_code=status,
        parent_id="00000000000000ff",
        attributes={"output.value": output, "tool.name": "lookupOrderStatus"},
    )


def retriever_span(query="How can I get a refund?", docs=("Q: refund?\nA: 30 days.",)):
    attributes = {"input.value": query, "openinference.span.kind": "RETRIEVER"}
    for i, doc in enumerate(docs):
        attributes[f"retrieval.documents.{i}.document.content"] = doc
        attributes[f"retrieval.documents.{i}.document.id"] = f"faq-{i:03d}"
    return SpanView(
        "00000000000000bb", "0" * 31 + "2", "faq-retrieval", "RETRIEVER", "OK", None, attributes
    )


# -- tool_result (CODE) ----------------------------------------------------------------------


def test_tool_result_success():
    order = {"order_id": "ORD-12345", "status": "shipped", "carrier": "FedEx"}
    verdict = tool_result(tool_span(json.dumps(order)))
    assert verdict == Verdict(
        TOOL_RESULT,
        "00000000000000aa",
        "0" * 31 + "1",
        "success",
        1.0,
        "The tool returned a result, not an error.",
        "CODE",
    )
    assert verdict.error is None


def test_tool_result_error_in_output_gives_the_error_detail():
    output = json.dumps({"error": "Order ORD-99999 not found in our system"})
    verdict = tool_result(tool_span(output, status="ERROR"))
    assert (verdict.label, verdict.score, verdict.annotator_kind) == ("error", 0.0, "CODE")
    assert "Order ORD-99999 not found in our system" in verdict.explanation
    assert verdict.error is None


def test_tool_result_error_output_with_ok_status_is_still_an_error():
    verdict = tool_result(tool_span(json.dumps({"error": "backend timeout"}), status="OK"))
    assert verdict.label == "error"
    assert "backend timeout" in verdict.explanation


def test_tool_result_error_status_alone_is_an_error():
    verdict = tool_result(tool_span("", status="ERROR"))
    assert (verdict.label, verdict.score) == ("error", 0.0)


@pytest.mark.parametrize(
    ("output", "status"), [("Not Found", "OK"), ("[1, 2]", "ERROR"), ("{not json: error", "OK")]
)
def test_tool_result_error_output_that_is_not_an_object(output, status):
    verdict = tool_result(tool_span(output, status=status))
    assert verdict.label == "error"
    assert output in verdict.explanation


def test_tool_result_explanation_is_bounded():
    verdict = tool_result(tool_span(json.dumps({"error": "x" * 2000}), status="ERROR"))
    assert len(verdict.explanation) <= 500


def test_judges_for_picks_judges_by_span_kind_and_name():
    relevance = object()
    assert judges_for(tool_span("{}"), relevance) == [tool_result]
    assert judges_for(retriever_span(), relevance) == [relevance]
    assert judges_for(retriever_span(), None) == []
    other_tool = SpanView("1" * 16, "2" * 32, "otherTool", "TOOL", "OK")
    agent = SpanView("1" * 16, "2" * 32, "support-agent", "AGENT", "OK")
    assert judges_for(other_tool, relevance) == []
    assert judges_for(agent, relevance) == []


def test_judge_spans_applies_judges_in_span_order():
    seen = []

    def relevance(span, seed=None):
        seen.append(span.name)
        return Verdict(RETRIEVAL_RELEVANCE, span.span_id, span.trace_id, "relevant", 1.0, "", "LLM")

    spans = [retriever_span(), tool_span("{}"), SpanView("1" * 16, "2" * 32, "x", "LLM", "OK")]
    verdicts = judge_spans(spans, relevance)
    assert [v.judge for v in verdicts] == [RETRIEVAL_RELEVANCE, TOOL_RESULT]
    assert seen == ["faq-retrieval"]


# -- retrieval_relevance (LLM, replayed) ----------------------------------------------------


def labels_from_recording(cassettes, golden_id):
    """Each judge reply of the recording, in order: its label, or None where it failed."""
    labels = []
    for step, _, status, response in cassettes.interactions(golden_id):
        if not step.startswith("judge:"):
            continue
        try:
            label = (
                json.loads(cassettes.reply_text(response)).get("label") if status == 200 else None
            )
        except (json.JSONDecodeError, AttributeError):
            label = None
        labels.append(label if label in CHOICES else None)
    return labels


@pytest.mark.parametrize(
    "golden_id",
    [
        "tutorial-refund",
        "tutorial-forgot-password",
        "tutorial-upgrade-premium",
        "tutorial-vague-request",
        "faq-password-not-working",
    ],
)
def test_retrieval_relevance_replayed_from_cassette(cassettes, run_golden, golden_id):
    if f"judge:{RETRIEVAL_RELEVANCE}" not in cassettes.steps(golden_id):
        pytest.skip(f"the recording of {golden_id} took no FAQ path: nothing was judged")
    judge = RetrievalRelevanceJudge(cassettes.settings(), cassettes.judge_method())
    assert judge.model == cassettes.settings().effective_judge_model
    bot_result, views, _ = run_golden(golden_id)
    retriever = next(v for v in views if v.kind == "RETRIEVER")

    with cassettes.replay(golden_id) as use:
        verdicts = judge(retriever)
    assert not use.misses

    # one judge call per retrieved document, in rank order, then the span's verdict from them
    span, *documents = verdicts
    assert [d.document_position for d in documents] == list(range(len(retriever.documents)))
    assert [d.document_id for d in documents] == [doc["id"] for doc in retriever.documents]
    assert [d.label for d in documents] == labels_from_recording(cassettes, golden_id)
    for verdict in verdicts:
        assert isinstance(verdict, Verdict) and verdict.judge == RETRIEVAL_RELEVANCE
        assert verdict.annotator_kind == "LLM"
        assert (verdict.span_id, verdict.trace_id) == (retriever.span_id, retriever.trace_id)
    assert span.trace_id == bot_result.trace_id and span.document_position is None
    if any(d.label is None for d in documents):
        assert span.label is None and span.error
    else:
        label = "relevant" if any(d.label == "relevant" for d in documents) else "irrelevant"
        assert (span.label, span.score, span.error) == (label, float(label == "relevant"), None)


def test_judge_whose_request_fails_returns_an_error_verdict(cassettes, tmp_path):
    from pytest_supportbot_evals.recording.cassettes import use_cassette

    judge = RetrievalRelevanceJudge(cassettes.settings(), cassettes.judge_method())
    empty = tmp_path / "empty.yaml"
    with use_cassette(empty, "none") as use:
        verdict, *documents = judge(retriever_span())  # must not raise
    assert use.misses  # the request was attempted and missed
    assert documents and all(d.error for d in documents)
    assert verdict.label is None
    assert verdict.score is None
    assert verdict.error
    assert len(verdict.error) <= 300
    assert verdict.judge == RETRIEVAL_RELEVANCE
    assert verdict.span_id == "00000000000000bb"
    assert not empty.exists()  # replay never writes


def test_unknown_judge_method_is_rejected(cassettes):
    with pytest.raises(ValueError, match="Unknown judge method"):
        RetrievalRelevanceJudge(cassettes.settings(), "telepathy")


# -- SpanView --------------------------------------------------------------------------------

DOCS = [
    {"document": {"id": "faq-002", "content": "Q: refund?\nA: 30 days.", "score": 2.0}},
    {"document": {"id": "faq-018", "content": "Q: damaged?\nA: photos.", "score": 1.1}},
]


def phoenix_span(attributes):
    return {
        "name": "faq-retrieval",
        "context": {"span_id": "abcdef0123456789", "trace_id": "f" * 32},
        "parent_id": "0123456789abcdef",
        "span_kind": "retriever",
        "status_code": "ok",
        "attributes": attributes,
    }


EXPECTED_DOCS = [
    {"id": "faq-002", "content": "Q: refund?\nA: 30 days.", "score": 2.0},
    {"id": "faq-018", "content": "Q: damaged?\nA: photos.", "score": 1.1},
]


def test_from_phoenix_with_nested_attributes():
    nested = {"input": {"value": "refund?"}, "retrieval": {"documents": DOCS}}
    view = SpanView.from_phoenix(phoenix_span(nested))
    assert view.documents == EXPECTED_DOCS
    assert view.get("input.value") == "refund?"
    assert (view.span_id, view.trace_id, view.parent_id) == (
        "abcdef0123456789",
        "f" * 32,
        "0123456789abcdef",
    )
    assert (view.kind, view.status_code, view.name) == ("RETRIEVER", "OK", "faq-retrieval")


def test_from_phoenix_with_flat_attributes():
    flat = {"input.value": "refund?"}
    for i, doc in enumerate(DOCS):
        for key, value in doc["document"].items():
            flat[f"retrieval.documents.{i}.document.{key}"] = value
    view = SpanView.from_phoenix(phoenix_span(flat))
    assert view.documents == EXPECTED_DOCS
    assert view.get("input.value") == "refund?"


def test_from_phoenix_with_json_string_attributes_and_kind_from_attributes():
    span = phoenix_span(
        json.dumps({"openinference": {"span": {"kind": "tool"}}, "retrieval": {"documents": DOCS}})
    )
    del span["span_kind"]
    view = SpanView.from_phoenix(span)
    assert view.kind == "TOOL"
    assert len(view.documents) == 2


def test_from_phoenix_with_missing_fields():
    view = SpanView.from_phoenix({})
    assert (view.span_id, view.name, view.kind, view.status_code) == ("", "", "UNKNOWN", "UNSET")
    assert view.documents == []


def test_documents_stop_at_the_first_gap():
    view = SpanView("a", "b", "r", "RETRIEVER", "OK", attributes={
        "retrieval.documents.0.document.content": "zero",
        "retrieval.documents.2.document.content": "two",
    })  # fmt: skip
    assert [d["content"] for d in view.documents] == ["zero"]
    assert view.documents[0]["id"] is None


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": 2}) == {"a.b": 1, "a.c.d": "x", "e": 2}
    assert flatten({"l": [{"x": 1}, {"x": 2}]}) == {"l.0.x": 1, "l.1.x": 2}
    assert flatten({"l": [[1], [2, 3]]}) == {"l.0": [1], "l.1": [2, 3]}
    assert flatten({"tags": ["a", "b"]}) == {"tags": ["a", "b"]}  # scalar lists stay lists
    assert flatten({"a.b": 1}) == {"a.b": 1}
    assert flatten({"a": {}}) == {}
    assert flatten({}) == {}
    assert flatten(5) == {}
    assert flatten(5, "x") == {"x": 5}
