"""ShopBot's agent: sort the message (LLM), check a warranty (tool) or search the shop rules
(retriever), answer (LLM). Every step is an OpenInference span on the tracer provider it is given.

It keeps the the evals plugin agent contract: ``make_agent(tracer_provider=...)`` returns
``agent(query, *, seed=None)``, which answers with ``{"response": ..., "label": <intent>}``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from openai import OpenAI
from openinference.instrumentation import using_metadata
from openinference.semconv.trace import DocumentAttributes, SpanAttributes
from opentelemetry.trace import Status, StatusCode, TracerProvider

HERE = Path(__file__).parent
INTENTS = ("policy", "warranty", "other")
SERIAL = re.compile(r"\bSN-\d{6}\b", re.IGNORECASE)
KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
#: The model ShopBot's recordings were made with (a local SmolLM2-135M-Instruct).
MODEL = os.environ.get("SHOPBOT_MODEL", "smollm2-135m-instruct-q4_1")
INTENT_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "intent",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"intent": {"type": "string", "enum": list(INTENTS)}},
            "required": ["intent"],
            "additionalProperties": False,
            # The whole replies allowed, so that a JSON grammar leaves no room for whitespace.
            "enum": [{"intent": intent} for intent in INTENTS],
        },
    },
}
ANSWER_STOP = ["\n\n", "\nCustomer:"]


def prompt(name: str, **values: str) -> str:
    return (HERE / "prompts" / f"{name}.txt").read_text(encoding="utf-8").strip().format(**values)


def _data(name: str) -> list[dict[str, Any]]:
    return json.loads((HERE / "data" / f"{name}.json").read_text(encoding="utf-8"))


class ShopBot:
    def __init__(self, tracer_provider: TracerProvider, client: OpenAI | None = None) -> None:
        self.tracer = tracer_provider.get_tracer("shopbot")
        self.client = client or OpenAI(
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            api_key=os.environ.get("OPENAI_API_KEY") or "not-needed-locally",
            max_retries=0,
            timeout=120,
        )
        self.warranties = {w["serial"]: w for w in _data("warranties")}
        self.policies = _data("policies")

    def answer(self, query: str, *, seed: int | None = None) -> dict[str, str]:
        seed = 7 if seed is None else seed
        attributes = {KIND: "AGENT", SpanAttributes.INPUT_VALUE: query}
        with self.tracer.start_as_current_span("shop-agent", attributes=attributes) as span:
            said = self._intent(query, seed)
            serial = SERIAL.search(query)
            # A message giving a serial number is a warranty check, whatever the model said;
            # the span keeps the model's own label apart (the eval measures the model's).
            intent = "warranty" if serial else said
            span.set_attributes(
                {
                    "classification.llm_category": said,
                    "classification.source": "serial_rule" if intent != said else "llm",
                }
            )
            if intent == "warranty" and serial:
                serial_number = serial.group(0).upper()
                result = self._check_warranty(serial_number)
                system = prompt("warranty_answer", serial=serial_number, result=json.dumps(result))
            elif intent == "policy":
                rules = self._search_policies(query)
                text = "\n".join(f"- {p['title']}: {p['text']}" for p in rules) or "(none found)"
                system = prompt("policy_answer", rules=text)
            else:
                system = prompt("other_answer")
            response = self._chat(f"{intent}_answer", system, query, seed)
            span.set_attribute(SpanAttributes.OUTPUT_VALUE, response)
            span.set_status(Status(StatusCode.OK))
        return {"response": response, "label": intent}

    def _chat(
        self,
        step: str,
        system: str,
        query: str,
        seed: int,
        response_format: dict[str, Any] | None = None,
        max_tokens: int = 96,
    ) -> str:
        extra: dict[str, Any] = (
            {"response_format": response_format} if response_format else {"stop": ANSWER_STOP}
        )
        with using_metadata({"step": step}):  # names the step in traces and cassettes
            completion = self.client.chat.completions.create(
                model=MODEL,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": query},
                ],
                temperature=0.0,
                seed=seed,
                max_tokens=max_tokens,
                **extra,
            )
        return (completion.choices[0].message.content or "").strip()

    def _intent(self, query: str, seed: int) -> str:
        raw = self._chat("intent", prompt("intent"), query, seed, INTENT_FORMAT, max_tokens=160)
        try:
            intent = json.loads(raw).get("intent")
        except (ValueError, AttributeError):
            intent = None
        return intent if intent in INTENTS else "other"

    def _check_warranty(self, serial: str) -> dict[str, str]:
        parameters = json.dumps({"serialNumber": serial})
        attributes = {
            KIND: "TOOL",
            SpanAttributes.TOOL_NAME: "checkWarranty",
            SpanAttributes.TOOL_PARAMETERS: parameters,
            SpanAttributes.INPUT_VALUE: parameters,
        }
        with self.tracer.start_as_current_span("checkWarranty", attributes=attributes) as span:
            found = self.warranties.get(serial)
            result = found or {"error": f"No device with serial number {serial} was sold by us"}
            span.set_attribute(SpanAttributes.OUTPUT_VALUE, json.dumps(result))
            span.set_status(Status(StatusCode.OK) if found else Status(StatusCode.ERROR, "unknown"))
        return result

    def _search_policies(self, query: str) -> list[dict[str, str]]:
        """The two shop rules sharing the most words with the query (keyword search)."""
        words = set(re.findall(r"[a-z]+", query.lower())) - {"the", "a", "i", "my", "do", "you"}
        attributes = {KIND: "RETRIEVER", SpanAttributes.INPUT_VALUE: query}
        with self.tracer.start_as_current_span("policy-search", attributes=attributes) as span:
            scored = []
            for rule in self.policies:
                text = f"{rule['title']} {rule['text']}".lower()
                score = len(words & set(re.findall(r"[a-z]+", text)))
                if score:
                    scored.append((score, rule))
            hits = [rule for _, rule in sorted(scored, key=lambda s: -s[0])[:2]]
            for i, rule in enumerate(hits):
                prefix = f"{SpanAttributes.RETRIEVAL_DOCUMENTS}.{i}"
                span.set_attribute(f"{prefix}.{DocumentAttributes.DOCUMENT_ID}", rule["id"])
                span.set_attribute(f"{prefix}.{DocumentAttributes.DOCUMENT_CONTENT}", rule["text"])
            span.set_status(Status(StatusCode.OK))
        return hits


def make_agent(tracer_provider: TracerProvider) -> Any:
    """The agent contract's factory (ini ``evals_agent = "shopbot.agent:make_agent"``)."""
    from openinference.instrumentation.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:  # LLM spans under ShopBot's own
        instrumentor.instrument(tracer_provider=tracer_provider)
    return ShopBot(tracer_provider).answer
