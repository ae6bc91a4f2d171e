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
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from openinference.instrumentation import using_metadata
from openinference.semconv.trace import DocumentAttributes, SpanAttributes
from openinference.semconv.trace import OpenInferenceSpanKindValues as Kind
from opentelemetry import trace as trace_api
from opentelemetry.trace import Status, StatusCode

from evals_core import tracing
from evals_core.llm import build_client
from evals_core.settings import ANSWER_STOP, Settings
from supportbot import prompts
from supportbot.classification import (
    CATEGORIES,
    FALLBACK_CATEGORY,
    Classification,
    classification_format,
    label_confidence,
    parse_classification,
    reply_tokens,
    route,
)
from supportbot.store import FaqHit, Store
from supportbot.turns import AgentResult, Turn, order_id_of, session_context

if TYPE_CHECKING:
    from openai import OpenAI

__all__ = [
    "CATEGORIES",
    "FALLBACK_CATEGORY",
    "AgentResult",
    "Classification",
    "EmptyQueryError",
    "SupportBot",
    "Turn",
    "classification_format",
    "parse_classification",
    "route",
]
MAX_QUERY_CHARS = 4000
#: Earlier turns of a session sent to the LLM with each new query (chapter 3's multi-turn chat).
MAX_HISTORY_TURNS = 4
KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
AGENT, TOOL, RETRIEVER = (k.value for k in (Kind.AGENT, Kind.TOOL, Kind.RETRIEVER))


class EmptyQueryError(ValueError):
    """The query was empty; there is nothing to answer."""


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
        self.store = store or Store(
            faq_file=self.settings.faq_file, orders_file=self.settings.orders_file
        )
        self.client = client or build_client(self.settings)
        #: Per session id, the last turns (memory for multi-turn conversations).
        self.conversations: dict[str, deque[Turn]] = {}
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

        With a ``session_id`` the bot remembers the session's last turns and sends them with the
        query, so a follow-up ("When will it arrive?") is understood; a query without an order
        id in an order conversation looks up the order the conversation is about. Without a
        session every query stands alone (and its LLM requests are exactly as before).
        ``seed`` overrides the settings' seed for this query's LLM calls (repetitions).
        """
        seed = self.settings.seed if seed is None else seed
        query = query.strip()
        if not query:
            raise EmptyQueryError("The query is empty; type a question for SupportBot.")
        query = query[:MAX_QUERY_CHARS]
        history: Sequence[Turn] = ()
        if session_id:
            history = self.conversations.setdefault(session_id, deque(maxlen=MAX_HISTORY_TURNS))
        with tracing.activate(self.tracer_provider), session_context(session_id):
            attributes: dict[str, Any] = {KIND: AGENT, SpanAttributes.INPUT_VALUE: query}
            if session_id:
                attributes[SpanAttributes.SESSION_ID] = session_id
                attributes["conversation.turn"] = len(history) + 1
            with self._tracer.start_as_current_span("support-agent", attributes=attributes) as span:
                context = span.get_span_context()
                classification = route(query, self._classify(query, seed, history))
                if classification.confidence is not None:  # read from logprobs, else absent
                    span.set_attribute("classification.confidence", classification.confidence)
                span.set_attributes(
                    {
                        "classification.category": classification.category,
                        "classification.fallback": classification.fallback,
                        "classification.source": classification.source,
                        # the model's own label ("" when its reply was unusable)
                        "classification.llm_category": classification.llm_category or "",
                    }
                )
                order_id = None
                if classification.category == "order_status":
                    order_id = order_id_of(query, history)
                    response = self._answer_order(query, order_id, seed, history)
                else:
                    response = self._answer_faq(query, seed, history)
                span.set_attribute(SpanAttributes.OUTPUT_VALUE, response)
                span.set_status(Status(StatusCode.OK))
        if session_id:
            self.conversations[session_id].append(Turn(query, response, order_id))
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

    def _classify(self, query: str, seed: int, history: Sequence[Turn]) -> Classification:
        top = self.settings.classify_top_logprobs
        completion = self._complete(
            "classify",
            prompts.render("classify"),
            query,
            seed,
            history,
            response_format=classification_format(self.settings.structured_output),
            max_tokens=self.settings.classify_max_tokens,
            **({"logprobs": True, "top_logprobs": top} if top else {}),
        )
        choice = completion.choices[0]
        content = choice.message.content or ""
        classification = parse_classification(content.strip())
        tokens = reply_tokens(choice.logprobs)
        if classification.fallback or not tokens:
            return classification
        return replace(classification, confidence=label_confidence(content, tokens))

    def _answer_order(
        self, query: str, order_id: str | None, seed: int, history: Sequence[Turn]
    ) -> str:
        if order_id is None:
            system = prompts.render("order_missing_id")
            return self._chat("order_missing_id", system, query, seed, history)
        result = self._lookup_order(order_id)
        system = prompts.render("order_answer", order_id=order_id, lookup_result=json.dumps(result))
        return self._chat("order_answer", system, query, seed, history)

    def _lookup_order(self, order_id: str) -> dict[str, Any]:
        parameters = json.dumps({"orderId": order_id})
        attributes = {
            KIND: TOOL,
            SpanAttributes.TOOL_NAME: "lookupOrderStatus",
            SpanAttributes.TOOL_PARAMETERS: parameters,
            SpanAttributes.INPUT_VALUE: parameters,
        }
        with self._tracer.start_as_current_span("lookupOrderStatus", attributes=attributes) as span:
            order = self.store.lookup_order(order_id)
            result = (
                _tool_fields(order)
                if order
                else {"error": f"Order {order_id} not found in our system"}
            )
            span.set_attribute(SpanAttributes.OUTPUT_VALUE, json.dumps(result))
            if order:
                span.set_status(Status(StatusCode.OK))
            else:
                span.set_status(Status(StatusCode.ERROR, "Order not found"))
        return result

    def _answer_faq(self, query: str, seed: int, history: Sequence[Turn]) -> str:
        hits = self._retrieve(query)
        context = "\n\n".join(hit.content for hit in hits) or "(no matching FAQ entries)"
        system = prompts.render("faq_answer", context=context)
        return self._chat("faq_answer", system, query, seed, history)

    def _retrieve(self, query: str) -> list[FaqHit]:
        attributes = {KIND: RETRIEVER, SpanAttributes.INPUT_VALUE: query}
        with self._tracer.start_as_current_span("faq-retrieval", attributes=attributes) as span:
            hits = self.store.search_faq(query, self.settings.top_k)
            for i, hit in enumerate(hits):
                prefix = f"{SpanAttributes.RETRIEVAL_DOCUMENTS}.{i}"
                span.set_attributes(
                    {
                        f"{prefix}.{DocumentAttributes.DOCUMENT_ID}": hit.id,
                        f"{prefix}.{DocumentAttributes.DOCUMENT_CONTENT}": hit.content,
                        f"{prefix}.{DocumentAttributes.DOCUMENT_SCORE}": hit.score,
                        f"{prefix}.{DocumentAttributes.DOCUMENT_METADATA}": json.dumps(
                            {"category": hit.category, "score": hit.score}
                        ),
                    }
                )
            span.set_status(Status(StatusCode.OK))
        return hits

    def _chat(self, step: str, system: str, user: str, seed: int, history: Sequence[Turn]) -> str:
        """One answer (free text) of a step: the completion's text."""
        completion = self._complete(step, system, user, seed, history)
        return (completion.choices[0].message.content or "").strip()

    def _complete(
        self,
        step: str,
        system: str,
        user: str,
        seed: int,
        history: Sequence[Turn] = (),
        *,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        **extra: Any,
    ) -> Any:
        """One chat completion; ``max_tokens`` defaults to the answer budget."""
        s = self.settings
        extra.update(
            {"response_format": response_format} if response_format else {"stop": list(ANSWER_STOP)}
        )
        messages = [{"role": "system", "content": system}]
        for turn in history:
            messages += [
                {"role": "user", "content": turn.query},
                {"role": "assistant", "content": turn.response},
            ]
        messages.append({"role": "user", "content": user})
        # The step's name goes on the LLM span (OpenInference metadata), where Phoenix shows it
        # and the eval plugin names the request in its cassettes.
        with using_metadata({"step": step}):
            completion = self.client.chat.completions.create(
                model=s.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=s.temperature,
                seed=seed,
                max_tokens=s.max_tokens if max_tokens is None else max_tokens,
                **extra,
            )
        return completion


#: The lookup tool's output fields, named as the tutorial's tool names them.
TOOL_FIELDS = {
    "order_id": "orderId",
    "status": "status",
    "carrier": "carrier",
    "tracking_number": "trackingNumber",
    "eta": "eta",
}


def _tool_fields(order: dict[str, Any]) -> dict[str, Any]:
    return {TOOL_FIELDS[k]: v for k, v in order.items() if k in TOOL_FIELDS}
