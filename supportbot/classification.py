"""The classification step's data: the JSON the classifier must return, and how it is read.

Plain functions, no LLM: ``parse_classification`` reads whatever the model said (small models
wrap JSON in prose), ``route`` applies the order-id guardrail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

CATEGORIES = ("order_status", "faq")
FALLBACK_CATEGORY = "faq"
ORDER_ID = re.compile(r"\bORD-\d{5}\b", re.IGNORECASE)


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    reasoning: str
    fallback: bool = False
    #: ``llm``, ``fallback`` (unparseable reply) or ``order_id_rule`` (see ``route``).
    source: str = "llm"


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
