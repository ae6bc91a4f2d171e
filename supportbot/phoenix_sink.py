"""Deliver spans and span annotations to Phoenix through a spool: nothing is lost, nothing doubled.

Spans go as OTLP/HTTP protobuf to ``/v1/traces``; annotations through phoenix-client's
``spans.log_span_annotations`` in batches, each with an ``identifier`` so that delivering the
same annotation twice (a retry after a lost response) updates instead of duplicating. Phoenix
ingests spans asynchronously, so an annotation may briefly 404 for a span it has not stored yet:
that is retried with back-off, then left in the spool for the next run.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportbot.spool import Record, Spool
from supportbot.tracing import base_url, traces_url

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
DEFAULT_SPOOL = Path(".supportbot") / "phoenix-spool.jsonl"


@contextmanager
def reading_project(endpoint: str, project: str) -> Iterator[None]:
    """Reading a project's spans: Phoenix's 404 (no span stored yet) and a Phoenix that is down
    become one clear error that says what to do."""
    import httpx

    try:
        yield
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:
            raise
        raise ValueError(
            f"Phoenix at {endpoint} has no project {project!r} (yet): send traces first "
            "(supportbot ask/chat), or name the project with --project."
        ) from None
    except httpx.TransportError as exc:
        raise ValueError(
            f"Phoenix is not reachable at {endpoint} ({exc}); start it "
            "(supportbot serve phoenix) or fix --phoenix."
        ) from None


@dataclass(frozen=True)
class Delivery:
    """The outcome of one flush: what went through and what still waits in the spool."""

    delivered: int
    pending: int
    requests: int
    error: str | None = None

    def describe(self, endpoint: str, spool: Path) -> str:
        if self.pending == 0:
            return f"Phoenix {endpoint}: all delivered ({self.delivered} batches)."
        return (
            f"Phoenix {endpoint}: {self.pending} batch(es) pending in {spool} "
            f"({self.error or 'not yet accepted'}); they are sent on the next run, or now with "
            "`supportbot deliver`."
        )


class PhoenixSink:
    def __init__(
        self,
        endpoint: str,
        spool_path: Path = DEFAULT_SPOOL,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        ingest_wait: float = 20.0,
        project: str | None = None,
    ) -> None:
        """``project``: the Phoenix project the spans go to; with it, annotations are sent
        asynchronously and then confirmed by reading them back (fast); without it, they are
        sent synchronously (durable, but Phoenix inserts them slowly)."""
        self.endpoint = base_url(endpoint)
        self.project = project
        self.spool = Spool(spool_path)
        self._api_key = api_key
        self._timeout = timeout
        self._ingest_wait = ingest_wait
        self._requests = 0
        self._error: str | None = None
        self._client: Any = None
        self._http_client: Any = None

    # -- enqueue -----------------------------------------------------------------------------

    def add_spans(self, spans: Sequence[Any]) -> None:
        """Queue finished OpenTelemetry spans (``ReadableSpan``) for export."""
        if spans:
            self.add_encoded_spans(encode_spans(spans))

    def add_encoded_spans(self, encoded: str) -> None:
        """Queue spans already encoded by ``encode_spans`` (e.g. sent by an xdist worker)."""
        self.spool.append("spans", encoded)

    def add_annotations(self, annotations: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(annotations), BATCH_SIZE):
            self.spool.append("annotations", list(annotations[start : start + BATCH_SIZE]))

    # -- deliver -----------------------------------------------------------------------------

    def flush(self) -> Delivery:
        """Send everything in the spool, in order; keep what Phoenix did not accept."""
        self._requests, self._error = 0, None
        delivered, pending = self.spool.drain(self._deliver)
        return Delivery(delivered, pending, self._requests, self._error)

    def _deliver(self, record: Record) -> bool:
        import httpx

        try:
            if record["kind"] == "spans":
                self._post_spans(base64.b64decode(record["payload"]))
            elif record["kind"] == "annotations":
                self._post_annotations(record["payload"])
            return True
        except httpx.HTTPStatusError as exc:
            self._error = f"HTTP {exc.response.status_code} from {exc.request.url.path}"
        except httpx.HTTPError as exc:
            self._error = f"{type(exc).__name__}: Phoenix is unreachable at {self.endpoint}"
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("Phoenix delivery deferred: %s", self._error)
        return False

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _post_spans(self, data: bytes) -> None:
        response = self._http().post(
            traces_url(self.endpoint),
            content=data,
            headers={"content-type": "application/x-protobuf"},
        )
        response.raise_for_status()

    def _post_annotations(self, annotations: list[dict[str, Any]]) -> None:
        """Deliver one batch so that it is *stored* before it leaves the spool.

        Fast path (with a project): Phoenix's asynchronous endpoint (its queue also waits for
        spans not ingested yet), then a read-back of the batch; only a confirmed batch counts.
        Otherwise, or when the read-back does not confirm in time: the synchronous endpoint,
        retrying a 404 for spans Phoenix has not stored yet.
        """
        if self.project and self._send_and_confirm(annotations):
            return
        self._send_sync(annotations)

    def _send_and_confirm(self, annotations: list[dict[str, Any]]) -> bool:
        import httpx

        client = self._phoenix()
        client.spans.log_span_annotations(span_annotations=annotations, sync=False)
        wanted = {(a["span_id"], a["name"], a.get("identifier", "")) for a in annotations}
        deadline = time.monotonic() + min(self._ingest_wait, 10.0)
        delay = 0.2
        while time.monotonic() + delay <= deadline:
            time.sleep(delay)
            try:
                stored = client.spans.get_span_annotations(
                    span_ids=sorted({span_id for span_id, _, _ in wanted}),
                    project_identifier=self.project,
                )
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:  # 404: the project's spans not stored yet
                    raise
                stored = []
            wanted -= {(a["span_id"], a["name"], a.get("identifier") or "") for a in stored}
            if not wanted:
                return True
            delay = min(delay * 2, 2.0)
        return False

    def _send_sync(self, annotations: list[dict[str, Any]]) -> None:
        import httpx

        client = self._phoenix()
        deadline = time.monotonic() + self._ingest_wait
        delay = 0.25
        while True:
            try:
                client.spans.log_span_annotations(span_annotations=annotations, sync=True)
                return
            except httpx.HTTPStatusError as exc:
                # 404: a span not ingested yet (Phoenix writes spans asynchronously).
                retryable = exc.response.status_code in (404, 429, 500, 502, 503, 504)
                if not retryable or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 4.0)

    def _http(self) -> Any:
        """One HTTP client for everything sent to Phoenix; it counts the requests it makes."""
        if self._http_client is None:
            import httpx

            def count(_request: Any) -> None:
                self._requests += 1

            self._http_client = httpx.Client(
                base_url=self.endpoint,
                timeout=self._timeout,
                headers=self._headers(),
                event_hooks={"request": [count]},
            )
        return self._http_client

    def _phoenix(self) -> Any:
        if self._client is None:
            from phoenix.client import Client

            self._client = Client(
                base_url=self.endpoint, api_key=self._api_key, http_client=self._http()
            )
        return self._client


def encode_spans(spans: Sequence[Any]) -> str:
    """OTLP protobuf of ``ReadableSpan`` objects, base64 text (spool- and JSON-safe)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as encode

    return base64.b64encode(encode(spans).SerializeToString()).decode("ascii")


def span_annotation(
    *,
    span_id: str,
    name: str,
    annotator_kind: str,
    label: str | None,
    score: float | None,
    explanation: str | None,
    identifier: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """A ``SpanAnnotationData`` dict as phoenix-client and Phoenix's REST API take it."""
    result: dict[str, Any] = {}
    if label is not None:
        result["label"] = label
    if score is not None:
        result["score"] = score
    if explanation:
        result["explanation"] = explanation
    return {
        "span_id": span_id,
        "name": name,
        "annotator_kind": annotator_kind,
        "result": result,
        "identifier": identifier,
        "metadata": metadata,
    }


def verdict_annotation(verdict: Any, identifier: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The span annotation of a judge's ``Verdict`` (a failed judgement says why)."""
    return span_annotation(
        span_id=verdict.span_id,
        name=verdict.judge,
        annotator_kind=verdict.annotator_kind,
        label=verdict.label,
        score=verdict.score,
        explanation=verdict.explanation
        or (f"judge failed: {verdict.error}" if verdict.error else None),
        identifier=identifier,
        metadata=metadata,
    )
