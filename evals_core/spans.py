"""One read-only view of a span, whether it was exported to memory or read back from Phoenix.

Judges take a ``SpanView`` so that the same code judges a span in a pytest run (in memory) and
in ``supportbot evaluate`` (from Phoenix's REST API, where attributes may come back nested).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openinference.semconv.trace import DocumentAttributes, SpanAttributes

KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
DOCUMENTS = SpanAttributes.RETRIEVAL_DOCUMENTS


@dataclass(frozen=True)
class SpanView:
    span_id: str
    trace_id: str
    name: str
    kind: str
    status_code: str
    parent_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Retrieved documents of a RETRIEVER span, in rank order."""
        docs = []
        i = 0
        while f"{DOCUMENTS}.{i}.{DocumentAttributes.DOCUMENT_CONTENT}" in self.attributes:
            prefix = f"{DOCUMENTS}.{i}"
            docs.append(
                {
                    "id": self.attributes.get(f"{prefix}.{DocumentAttributes.DOCUMENT_ID}"),
                    "content": self.attributes.get(
                        f"{prefix}.{DocumentAttributes.DOCUMENT_CONTENT}", ""
                    ),
                    "score": self.attributes.get(f"{prefix}.{DocumentAttributes.DOCUMENT_SCORE}"),
                }
            )
            i += 1
        return docs

    @classmethod
    def from_otel(cls, span: Any) -> SpanView:
        """From an OpenTelemetry ``ReadableSpan`` (e.g. out of an ``InMemorySpanExporter``)."""
        attributes = dict(span.attributes or {})
        parent = span.parent
        return cls(
            span_id=format(span.context.span_id, "016x"),
            trace_id=format(span.context.trace_id, "032x"),
            name=span.name,
            kind=str(attributes.get(KIND, "UNKNOWN")),
            status_code=span.status.status_code.name,
            parent_id=format(parent.span_id, "016x") if parent else None,
            attributes=attributes,
        )

    @classmethod
    def from_phoenix(cls, span: Mapping[str, Any]) -> SpanView:
        """From a span as Phoenix's REST API (``Client().spans.get_spans``) returns it."""
        attributes = span.get("attributes") or {}
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        flat = flatten(attributes)
        context = span.get("context") or {}
        return cls(
            span_id=context.get("span_id", ""),
            trace_id=context.get("trace_id", ""),
            name=span.get("name", ""),
            kind=str(span.get("span_kind") or flat.get(KIND, "UNKNOWN")).upper(),
            status_code=str(span.get("status_code", "UNSET")).upper(),
            parent_id=span.get("parent_id"),
            attributes=flat,
        )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists to OpenTelemetry-style dotted keys (``a.0.b``)."""
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value} if prefix else {}
    flat: dict[str, Any] = {}
    for key, child in items:
        flat.update(flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat
