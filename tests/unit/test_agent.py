"""SupportBot's spans, replayed from the tutorial goldens' cassettes, and its pure helpers."""

import json
import re
from dataclasses import replace

import pytest
from supportbot.agent import (
    FALLBACK_CATEGORY,
    Classification,
    EmptyQueryError,
    SupportBot,
    classification_format,
    parse_classification,
    route,
)

from evals_core.settings import Settings
from evals_core.spans import SpanView

KIND = "openinference.span.kind"
HEX16 = re.compile(r"^[0-9a-f]{16}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
OPENAI_SCOPE = "openinference.instrumentation.openai"


def root_of(views):
    roots = [v for v in views if v.parent_id is None]
    assert len(roots) == 1, [v.name for v in roots]
    return roots[0]


# -- replayed runs ---------------------------------------------------------------------------


def test_unknown_order_gives_an_error_tool_span(run_golden, cassettes):
    result, views, _ = run_golden("tutorial-order-not-found")
    assert result.category == "order_status"
    tool = cassettes.one(views, name="lookupOrderStatus")
    assert tool.kind == "TOOL"
    assert tool.status_code == "ERROR"
    assert "not found" in tool.get("output.value").lower()
    assert json.loads(tool.get("tool.parameters")) == {"orderId": "ORD-99999"}
    assert tool.get("tool.name") == "lookupOrderStatus"
    assert tool.parent_id == root_of(views).span_id


@pytest.mark.parametrize(
    ("order_id", "status", "text"),
    [("ORD-99999", "ERROR", "not found"), ("ORD-12345", "OK", "shipped")],
)
def test_lookup_tool_span_without_any_llm(make_bot, order_id, status, text):
    bot, exporter = make_bot()
    result = bot._lookup_order(order_id)
    (span,) = [SpanView.from_otel(s) for s in exporter.get_finished_spans()]
    assert (span.name, span.kind, span.status_code) == ("lookupOrderStatus", "TOOL", status)
    assert text in span.get("output.value").lower()
    assert json.loads(span.get("output.value")) == result
    assert json.loads(span.get("input.value")) == {"orderId": order_id}
    if status == "OK":  # the tutorial's field names
        assert set(result) == {"orderId", "status", "carrier", "trackingNumber", "eta"}


def test_root_span_is_the_agent_span_of_the_result(run_golden):
    result, views, raw = run_golden("tutorial-order-not-found")
    root = root_of(views)
    assert root.name == "support-agent"
    assert root.kind == "AGENT"
    assert root.get(KIND) == "AGENT"
    assert root.status_code == "OK"
    assert HEX16.match(result.span_id)
    assert HEX32.match(result.trace_id)
    assert result.span_id == root.span_id
    assert {v.trace_id for v in views} == {result.trace_id}
    assert root.get("input.value") == result.query
    assert root.get("output.value") == result.response
    assert root.get("classification.category") == result.category
    assert "session.id" not in root.attributes
    assert result.session_id is None
    assert all(s.end_time is not None for s in raw)


def test_llm_spans_are_children_in_the_same_trace(run_golden, cassettes):
    golden_id = "tutorial-order-not-found"
    result, views, raw = run_golden(golden_id)
    root = root_of(views)
    llm = [(v, s) for v, s in zip(views, raw, strict=True) if v.kind == "LLM"]
    assert len(llm) == len(cassettes.steps(golden_id)) - cassettes.steps(golden_id).count(
        "judge:retrieval_relevance"
    )
    for view, span in llm:
        assert span.instrumentation_scope.name == OPENAI_SCOPE
        assert view.get(KIND) == "LLM"
        assert view.trace_id == result.trace_id
        assert view.parent_id in {v.span_id for v in views}
    classify = llm[0][0]
    assert classify.parent_id == root.span_id


def faq_path_golden(cassettes):
    """A tutorial FAQ golden whose recorded classification took the FAQ path."""
    for golden_id in ("tutorial-refund", "tutorial-forgot-password"):
        if "faq_answer" in cassettes.steps(golden_id):
            return golden_id
    pytest.fail("no tutorial FAQ golden was recorded on the FAQ path")


def test_faq_query_has_a_retriever_span_with_documents(run_golden, cassettes):
    from supportbot.store import Store

    golden_id = faq_path_golden(cassettes)
    result, views, _ = run_golden(golden_id)
    assert result.category == "faq"
    retriever = cassettes.one(views, name="faq-retrieval")
    assert retriever.kind == "RETRIEVER"
    assert retriever.parent_id == root_of(views).span_id
    assert retriever.get("input.value") == result.query
    assert "retrieval.documents.0.document.content" in retriever.attributes
    hits = Store().search_faq(result.query, cassettes.settings().top_k)
    assert [d["content"] for d in retriever.documents] == [h.content for h in hits]
    assert [d["id"] for d in retriever.documents] == [h.id for h in hits]
    assert not [v for v in views if v.kind == "TOOL"]


def test_session_id_on_root_and_llm_spans_in_replay(run_golden):
    result, views, _ = run_golden("tutorial-order-not-found", session_id="session-42")
    assert result.session_id == "session-42"
    assert root_of(views).get("session.id") == "session-42"
    assert {v.get("session.id") for v in views if v.kind == "LLM"} == {"session-42"}


def test_session_id_on_root_span_without_any_llm(make_bot):
    """Cassette-free: the LLM endpoint refuses the connection, the root span still has it."""
    import openai

    settings = Settings(base_url="http://127.0.0.1:9/v1", max_retries=0, request_timeout=5)
    bot, exporter = make_bot(settings)
    with pytest.raises(openai.APIConnectionError):
        bot.handle("What's the status of order ORD-99999?", session_id="session-7")
    root = root_of([SpanView.from_otel(s) for s in exporter.get_finished_spans()])
    assert root.name == "support-agent"
    assert root.get("session.id") == "session-7"
    assert root.status_code == "ERROR"


def test_two_bots_route_spans_to_their_own_exporters(make_bot, run_golden, cassettes):
    bot_a, exporter_a = make_bot()
    bot_b, exporter_b = make_bot()
    assert bot_a.tracer_provider is not bot_b.tracer_provider
    first = ("tutorial-order-not-found", bot_a, exporter_a)
    second = (faq_path_golden(cassettes), bot_b, exporter_b)
    results = {}
    for golden_id, bot, exporter in (first, second, first):  # A, B, then A again
        exporter.clear()
        result, views, _ = run_golden(golden_id, bot=(bot, exporter))
        results[golden_id] = result
        assert {v.trace_id for v in views} == {result.trace_id}
        agent_steps = [s for s in cassettes.steps(golden_id) if not s.startswith("judge:")]
        assert len([v for v in views if v.kind == "LLM"]) == len(agent_steps)
        assert root_of(views).span_id == result.span_id
    # Each exporter holds exactly its own bot's last run, nothing of the other's.
    trace_a = {SpanView.from_otel(s).trace_id for s in exporter_a.get_finished_spans()}
    trace_b = {SpanView.from_otel(s).trace_id for s in exporter_b.get_finished_spans()}
    assert trace_a == {results[first[0]].trace_id}
    assert trace_b == {results[second[0]].trace_id}


@pytest.mark.parametrize("query", ["", "   ", "\n\t "])
def test_empty_query_raises_before_any_span(make_bot, query):
    bot, exporter = make_bot()
    with pytest.raises(EmptyQueryError):
        bot.handle(query)
    assert exporter.get_finished_spans() == ()


def test_empty_query_error_is_a_value_error():
    assert issubclass(EmptyQueryError, ValueError)


def test_bot_without_provider_owns_one_without_exporter():
    bot = SupportBot(Settings(max_retries=0))
    assert bot._owns_provider
    bot.shutdown()


# -- parse_classification ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a confidence the model prints is not a probability: never read, never made up
        (
            '{"category": "order_status", "confidence": 0.9, "reasoning": "asks about ORD"}',
            Classification("order_status", None, "asks about ORD"),
        ),
        ('{"category": "faq", "confidence": 1, "reasoning": ""}', Classification("faq", None, "")),
        (
            'Sure: {"category": "faq", "confidence": 0.4, "reasoning": "r"} Hope it helps',
            Classification("faq", None, "r"),
        ),
        (
            '```json\n{"category": "order_status", "confidence": 0.7, "reasoning": "x"}\n```',
            Classification("order_status", None, "x"),
        ),
        ('{"category": "faq", "confidence": "high"}', Classification("faq", None, "")),
        ('{"category": "faq"}', Classification("faq", None, "")),
    ],
)
def test_parse_classification_valid(raw, expected):
    assert parse_classification(raw) == replace(expected, llm_category=expected.category)
    assert expected.fallback is False
    assert expected.source == "llm"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "garbage",
        "I think this is about an order.",
        '{"category": "order_status", "confidence": 0.9',  # cut off by max_tokens
        '{"category": "billing", "confidence": 0.9, "reasoning": "x"}',
        '{"category": "ORDER_STATUS", "confidence": 0.9}',
        '["order_status"]',
        "}{",
    ],
)
def test_parse_classification_fallback(raw):
    result = parse_classification(raw)
    assert result.category == FALLBACK_CATEGORY == "faq"
    assert result.confidence is None
    assert result.fallback is True
    assert result.reasoning.startswith("unparseable")
    assert result.source == "fallback"
    assert result.llm_category is None


def test_parse_classification_bounds_reasoning():
    raw = json.dumps({"category": "faq", "confidence": 0.5, "reasoning": "x" * 5000})
    assert len(parse_classification(raw).reasoning) == 500
    assert len(parse_classification("y" * 5000).reasoning) <= len("unparseable: ") + 200


def test_classification_formats():
    assert classification_format("json_object") == {"type": "json_object"}
    schema = classification_format("json_schema")
    assert schema["type"] == "json_schema"
    enum = schema["json_schema"]["schema"]["properties"]["category"]["enum"]
    assert enum == ["order_status", "faq"]
    # the label only: nothing a token budget could cut off after it
    assert list(schema["json_schema"]["schema"]["properties"]) == ["category"]


def test_route_sends_a_query_with_an_order_id_to_the_order_path():
    said_faq = parse_classification("garbage")
    routed = route("What's the status of order ord-99999?", said_faq)
    assert (routed.category, routed.source) == ("order_status", "order_id_rule")
    assert routed.confidence == said_faq.confidence
    assert routed.llm_category is None  # the guardrail's label is not the model's
    overridden = route("Where is ORD-12345?", parse_classification('{"category": "faq"}'))
    assert (overridden.category, overridden.llm_category) == ("order_status", "faq")
    assert route("How can I get a refund?", said_faq) == said_faq
    said_order = Classification("order_status", 0.8, "r")
    assert route("Where is ORD-12345?", said_order) == said_order
    assert route("Where is ORD-1234?", said_faq).category == "faq"  # not an order id
