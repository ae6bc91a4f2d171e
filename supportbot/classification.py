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
    #: The label the LLM itself gave (``None`` when its reply was unusable), kept when the
    #: guardrail overrides it: the ``category`` evaluator measures this, not the route.
    llm_category: str | None = None


def compact(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an object of one string-enum property) with the JSON texts it allows listed
    as an ``enum`` of objects, so that a grammar-constrained server writes them compactly.

    llama.cpp turns an object schema into a grammar that allows whitespace around every token,
    and a small model fills it: base Gemma padded a one-word label to 144 completion tokens
    (``{\\n \\t \\t ...``). An ``enum`` of whole objects becomes a grammar of exactly those
    texts (``{"label":"relevant"}``), while the properties keep the schema valid for servers
    that read those. A schema that is not one enum property is returned unchanged.
    """
    properties = schema.get("properties", {})
    if len(properties) != 1:
        return schema
    ((name, prop),) = properties.items()
    if "enum" not in prop:
        return schema
    return {**schema, "enum": [{name: value} for value in prop["enum"]]}


#: The label only: no free text that a small budget could cut off mid-JSON, and nothing the
#: model writes before its label.
CLASSIFICATION_SCHEMA = compact(
    {
        "type": "object",
        "properties": {"category": {"type": "string", "enum": list(CATEGORIES)}},
        "required": ["category"],
        "additionalProperties": False,
    }
)


def classification_format(kind: str) -> dict[str, Any]:
    """The ``response_format`` for the classifier.

    ``json_schema`` (default) constrains the reply to ``{"category": <one of the two>}`` by
    grammar where the server supports it (OpenAI, llama.cpp's server), so every reply parses.
    ``json_object`` is for servers that reject schemas (llama-cpp-python answers them with
    HTTP 500); its reply is parsed leniently and anything unusable takes the fallback.
    """
    if kind == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": "classification", "schema": CLASSIFICATION_SCHEMA, "strict": True},
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
    category = data["category"]
    reasoning = str(data.get("reasoning", ""))[:500]
    return Classification(category, confidence, reasoning, llm_category=category)
