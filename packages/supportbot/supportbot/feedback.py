"""User feedback (thumbs up/down) as ``user_feedback`` annotations, and a span exporter that
spools, so a CLI session's traces and ratings survive a Phoenix that is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from phoenix_delivery.phoenix_payloads import span_annotation
from phoenix_delivery.phoenix_sink import PhoenixSink

FEEDBACK_NAME = "user_feedback"
POSITIVE = ("y", "yes", "1")
NEGATIVE = ("n", "no", "0")
SKIP = ("s", "skip", "")


def parse_rating(text: str) -> str | None:
    """``"up"``, ``"down"``, ``None`` (skip); raises ValueError for anything else."""
    answer = text.strip().lower()
    if answer in POSITIVE:
        return "up"
    if answer in NEGATIVE:
        return "down"
    if answer in SKIP:
        return None
    raise ValueError(f"{text.strip()!r} is not a rating; answer y, n or s.")


def feedback_annotation(
    span_id: str, rating: str, category: str, source: str = "supportbot-cli"
) -> dict[str, Any]:
    """The tutorial's annotation: HUMAN, thumbs-up 1.0 / thumbs-down 0.0 on the agent span."""
    up = rating == "up"
    return span_annotation(
        span_id=span_id,
        name=FEEDBACK_NAME,
        annotator_kind="HUMAN",
        label="thumbs-up" if up else "thumbs-down",
        score=1.0 if up else 0.0,
        explanation=None,
        identifier=f"{source}:{span_id}",
        metadata={"category": category, "source": source},
    )


class SpoolingSpanExporter:
    """An OpenTelemetry span exporter that puts spans in the Phoenix spool, never dropping them."""

    def __init__(self, sink: PhoenixSink) -> None:
        self._sink = sink

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self._sink.add_spans(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
