"""SupportBot: the traced customer-support agent of Phoenix's tracing tutorial.

Flow (as in the tutorial): an LLM classifies the query as ``order_status`` or ``faq``; order
questions go through the ``lookupOrderStatus`` tool and an LLM summary; FAQ questions go through
``faq-retrieval`` and an LLM answer grounded in what was retrieved. Every step is a span.

Two deliberate differences: the order id is taken from the query by code (``ORD-\\d{5}``), not
by an LLM tool call, so the TOOL span exists exactly when an id was given, whatever the model;
and a query naming an order id is routed to the order path even when the LLM said otherwise
(``route``), recorded on the span as ``classification.source = order_id_rule``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api
from opentelemetry.trace import Status, StatusCode

from supportbot import prompts, tracing
from supportbot.llm import build_client, step_headers
from supportbot.settings import Settings
from supportbot.store import FaqHit, Store

if TYPE_CHECKING:
    from openai import OpenAI

CATEGORIES = ("order_status", "faq")
FALLBACK_CATEGORY = "faq"
ORDER_ID = re.compile(r"\bORD-\d{5}\b", re.IGNORECASE)
MAX_QUERY_CHARS = 4000
KIND = "openinference.span.kind"


class EmptyQueryError(ValueError):
    """The query was empty; there is nothing to answer."""


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    reasoning: str
    fallback: bool = False
    #: ``llm``, ``fallback`` (unparseable reply) or ``order_id_rule`` (see ``route``).
    source: str = "llm"


@dataclass(frozen=True)
class AgentResult:
    """What ``SupportBot.handle`` returns; ``span_id`` is where user feedback is attached."""

    query: str
    response: str
    category: str
    span_id: str
    trace_id: str
    session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SupportBot:
    """The agent. Pass a tracer provider to own where spans go; otherwise the bot owns one."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tracer_provider: trace_api.TracerProvider | None = None,
        store: Store | None = None,
        client: OpenAI | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._owns_provider = tracer_provider is None
        if tracer_provider is None:
            tracer_provider = self._default_provider()
        self.tracer_provider = tracer_provider
        self._tracer = tracer_provider.get_tracer("supportbot")
        self.store = store or Store(faq_file=self.settings.faq_file)
        self.client = client or build_client(self.settings)
        tracing.instrument_openai()

    def _default_provider(self) -> trace_api.TracerProvider:
        s = self.settings
        if s.phoenix_endpoint:
            return tracing.otlp_provider(s.phoenix_project, s.phoenix_endpoint, s.phoenix_api_key)
        from opentelemetry.sdk.trace import TracerProvider

        return TracerProvider()  # no exporter: spans are made (span ids exist) and dropped

    def handle(
        self, query: str, session_id: str | None = None, *, seed: int | None = None
    ) -> AgentResult:
        """Answer one customer query; the result carries the root span's id for feedback.

        ``seed`` overrides the settings' seed for this query's LLM calls (repetitions).
        """
        seed = self.settings.seed if seed is None else seed
        query = query.strip()
        if not query:
            raise EmptyQueryError("The query is empty; type a question for SupportBot.")
        query = query[:MAX_QUERY_CHARS]
        with tracing.activate(self.tracer_provider), _session(session_id):
            attributes = {KIND: "AGENT", "input.value": query}
            if session_id:
                attributes["session.id"] = session_id
            with self._tracer.start_as_current_span("support-agent", attributes=attributes) as span:
                context = span.get_span_context()
                classification = route(query, self._classify(query, seed))
                span.set_attributes(
                    {
                        "classification.category": classification.category,
                        "classification.confidence": classification.confidence,
                        "classification.fallback": classification.fallback,
                        "classification.source": classification.source,
                    }
                )
                if classification.category == "order_status":
                    response = self._answer_order(query, seed)
                else:
                    response = self._answer_faq(query, seed)
                span.set_attribute("output.value", response)
                span.set_status(Status(StatusCode.OK))
        return AgentResult(
            query=query,
            response=response,
            category=classification.category,
            span_id=format(context.span_id, "016x"),
            trace_id=format(context.trace_id, "032x"),
            session_id=session_id,
        )

    def shutdown(self) -> None:
        """Flush and close the provider if the bot owns it (exports pending spans)."""
        if self._owns_provider and hasattr(self.tracer_provider, "shutdown"):
            self.tracer_provider.shutdown()

    # -- steps -------------------------------------------------------------------------------

    def _classify(self, query: str, seed: int) -> Classification:
        raw = self._chat(
            "classify",
            prompts.render("classify"),
            query,
            seed,
            response_format=classification_format(self.settings.structured_output),
        )
        return parse_classification(raw)

    def _answer_order(self, query: str, seed: int) -> str:
        match = ORDER_ID.search(query)
        if match is None:
            return self._chat("order_missing_id", prompts.render("order_missing_id"), query, seed)
        order_id = match.group(0).upper()
        result = self._lookup_order(order_id)
        system = prompts.render("order_answer", order_id=order_id, lookup_result=json.dumps(result))
        return self._chat("order_answer", system, query, seed)

    def _lookup_order(self, order_id: str) -> dict[str, Any]:
        parameters = json.dumps({"orderId": order_id})
        attributes = {
            KIND: "TOOL",
            "tool.name": "lookupOrderStatus",
            "tool.parameters": parameters,
            "input.value": parameters,
        }
        with self._tracer.start_as_current_span("lookupOrderStatus", attributes=attributes) as span:
            order = self.store.lookup_order(order_id)
            result = order if order else {"error": f"Order {order_id} not found in our system"}
            span.set_attribute("output.value", json.dumps(result))
            if order:
                span.set_status(Status(StatusCode.OK))
            else:
                span.set_status(Status(StatusCode.ERROR, "Order not found"))
        return result

    def _answer_faq(self, query: str, seed: int) -> str:
        hits = self._retrieve(query)
        context = "\n\n".join(hit.content for hit in hits) or "(no matching FAQ entries)"
        return self._chat("faq_answer", prompts.render("faq_answer", context=context), query, seed)

    def _retrieve(self, query: str) -> list[FaqHit]:
        attributes = {KIND: "RETRIEVER", "input.value": query}
        with self._tracer.start_as_current_span("faq-retrieval", attributes=attributes) as span:
            hits = self.store.search_faq(query, self.settings.top_k)
            for i, hit in enumerate(hits):
                prefix = f"retrieval.documents.{i}.document"
                span.set_attributes(
                    {
                        f"{prefix}.id": hit.id,
                        f"{prefix}.content": hit.content,
                        f"{prefix}.score": hit.score,
                        f"{prefix}.metadata": json.dumps(
                            {"category": hit.category, "score": hit.score}
                        ),
                    }
                )
            span.set_status(Status(StatusCode.OK))
        return hits

    def _chat(
        self,
        step: str,
        system: str,
        user: str,
        seed: int,
        *,
        response_format: dict[str, Any] | None = None,
    ) -> str:
        s = self.settings
        extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
        completion = self.client.chat.completions.create(
            model=s.model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            temperature=s.temperature,
            seed=seed,
            max_tokens=s.max_tokens,
            extra_headers=step_headers(step),
            **extra,
        )
        return (completion.choices[0].message.content or "").strip()


_CLASSIFICATION_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "confidence": {"type": "number"},
        "reasoning": {"type": "string"},
    },
    "required": ["category", "confidence", "reasoning"],
    "additionalProperties": False,
}


def classification_format(kind: str) -> dict[str, Any]:
    """The ``response_format`` for the classifier.

    ``json_object`` (default) works on OpenAI, llama.cpp's server and llama-cpp-python alike;
    the reply is parsed leniently and anything unusable takes the documented fallback.
    ``json_schema`` constrains the reply to the two categories where the server supports it
    (OpenAI, llama.cpp's server; llama-cpp-python answers it with HTTP 500).
    """
    if kind == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": "classification", "schema": _CLASSIFICATION_SCHEMA, "strict": True},
    }


def route(query: str, classification: Classification) -> Classification:
    """A query naming an order id (``ORD-12345``) is an order question, whatever the LLM said.

    A guardrail, not a replacement: the LLM still classifies everything else, and the span
    records which of the two decided (``classification.source``).
    """
    if classification.category != "order_status" and ORDER_ID.search(query):
        return replace(classification, category="order_status", source="order_id_rule")
    return classification


def parse_classification(raw: str) -> Classification:
    """Read the classifier's JSON; anything unusable falls back to ``faq`` with confidence 0.

    Small models wrap JSON in prose or code fences, so the outermost ``{...}`` is parsed.
    The fallback is recorded on the agent span (``classification.fallback``).
    """
    start, end = raw.find("{"), raw.rfind("}")
    try:
        data = json.loads(raw[start : end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or data.get("category") not in CATEGORIES:
        return Classification(FALLBACK_CATEGORY, 0.0, f"unparseable: {raw[:200]}", True, "fallback")
    try:
        confidence = min(max(float(data.get("confidence", 0.5)), 0.0), 1.0)
    except (TypeError, ValueError):
        confidence = 0.5
    return Classification(data["category"], confidence, str(data.get("reasoning", ""))[:500])


@contextmanager
def _session(session_id: str | None) -> Iterator[None]:
    if not session_id:
        with nullcontext():
            yield
        return
    from openinference.instrumentation import using_session

    with using_session(session_id):
        yield
