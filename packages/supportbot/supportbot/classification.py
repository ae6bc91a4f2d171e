"""The classification step's data: the JSON the classifier must return, and how it is read.

Plain functions, no LLM: ``parse_classification`` reads whatever the model said (small models
wrap JSON in prose), ``label_confidence`` reads how sure the model was from the reply's token
log-probabilities (when the request asked for them), ``route`` applies the order-id guardrail.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from evals_core.llm import compact

CATEGORIES = ("order_status", "faq")
FALLBACK_CATEGORY = "faq"
ORDER_ID = re.compile(r"\bORD-\d{5}\b", re.IGNORECASE)


@dataclass(frozen=True)
class Classification:
    category: str
    #: The probability the model gave its label, among the labels (``label_confidence``);
    #: ``None`` when the reply carried no log-probabilities: never a made-up number.
    confidence: float | None
    reasoning: str
    fallback: bool = False
    #: ``llm``, ``fallback`` (unparseable reply) or ``order_id_rule`` (see ``route``).
    source: str = "llm"
    #: The label the LLM itself gave (``None`` when its reply was unusable), kept when the
    #: guardrail overrides it: the ``category`` evaluator measures this, not the route.
    llm_category: str | None = None


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
    """Read the classifier's JSON; anything unusable falls back to ``faq`` (no confidence).

    Small models wrap JSON in prose or code fences, so the outermost ``{...}`` is parsed.
    The fallback is recorded on the agent span (``classification.fallback``). A confidence the
    model writes into its JSON is not read: a number a model prints is not a probability.
    """
    start, end = raw.find("{"), raw.rfind("}")
    try:
        data = json.loads(raw[start : end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or data.get("category") not in CATEGORIES:
        return Classification(
            FALLBACK_CATEGORY, None, f"unparseable: {raw[:200]}", True, "fallback"
        )
    category = data["category"]
    reasoning = str(data.get("reasoning", ""))[:500]
    return Classification(category, None, reasoning, llm_category=category)


#: One generated token: its text, log-probability, and the most likely tokens at its place
#: (text, log-probability), as an OpenAI-compatible server returns them (``logprobs``).
Token = tuple[str, float, Sequence[tuple[str, float]]]
_LABEL_START = re.compile(r'"category"\s*:\s*"')


def label_confidence(
    content: str, tokens: Sequence[Token], labels: Sequence[str] = CATEGORIES
) -> float | None:
    """The probability of the reply's label among the labels, at the token where it starts.

    The tokens that could begin each label there (the label, or a prefix of it, after what the
    token shares with the reply) add up to that label's probability; the reply's label's share
    is the confidence. A label none of the listed tokens could begin is counted at the least
    listed probability (its own is at most that), so the confidence is then a lower bound.
    ``None`` when the tokens do not spell the reply (servers may trim its whitespace) or the
    label cannot be found in it.
    """
    spelled = "".join(t for t, _, _ in tokens)
    found = _LABEL_START.search(spelled)
    if found is None or spelled.strip() != content.strip():
        return None
    label = next((x for x in labels if spelled.startswith(x + '"', found.end())), None)
    offset, start = found.end(), 0
    for text, own, top in tokens:
        if start <= offset < start + len(text) and label is not None:
            floor = min((math.exp(lp) for _, lp in top), default=0.0)
            if text not in {alternative for alternative, _ in top}:  # the grammar forced it
                top = [*top, (text, own)]
            shared = spelled[start:offset]
            shares = {x: 0.0 for x in labels}
            for alternative, logprob in top:
                rest = alternative[len(shared) :] if alternative.startswith(shared) else ""
                for x in labels:
                    if rest and (x + '"').startswith(rest):
                        shares[x] += math.exp(logprob)
            shares = {x: p or floor for x, p in shares.items()}
            total = sum(shares.values())
            return round(shares[label] / total, 4) if total > 0 else None
        start += len(text)
    return None


def reply_tokens(logprobs: Any) -> list[Token]:
    """A reply's tokens (an OpenAI ``ChoiceLogprobs``) as ``Token`` tuples; none without."""
    return [
        (t.token, t.logprob, [(a.token, a.logprob) for a in t.top_logprobs or ()])
        for t in (getattr(logprobs, "content", None) or ())
    ]
