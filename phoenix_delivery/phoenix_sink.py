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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from phoenix_delivery.delivery import Delivery
from phoenix_delivery.phoenix_payloads import encode_spans, span_ids
from phoenix_delivery.spool import Record, Refused, Spool
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

    def add_annotations(
        self, annotations: Sequence[dict[str, Any]], kind: str = "annotations"
    ) -> None:
        for start in range(0, len(annotations), BATCH_SIZE):
            self.spool.append(kind, list(annotations[start : start + BATCH_SIZE]))

    def add_document_annotations(self, annotations: Sequence[dict[str, Any]]) -> None:
        """Annotations of retrieved documents (``document_position``), sent after the spans."""
        self.add_annotations(annotations, "document_annotations")

    # -- deliver -----------------------------------------------------------------------------

    def flush(self, *, only_new: bool = False, budget: float | None = None) -> Delivery:
        """Send what waits in the spool, in order; keep what Phoenix has not stored.

        ``only_new``/``budget`` (seconds): a foreground command sends its own new records and
        never waits on an old backlog (``supportbot deliver`` and eval runs send everything).
        """
        self._requests, self._error = 0, None
        deadline = time.monotonic() + budget if budget is not None else None
        delivered, pending = self.spool.drain(self._deliver, only_new=only_new, deadline=deadline)
        r = self.spool.last
        return Delivery(
            delivered,
            pending,
            self._requests,
            self._error,
            refused=tuple(r.refused),
            dead=r.dead,
            set_aside=r.set_aside,
            skipped=r.skipped,
            unreachable=r.unreachable,
        )

    def ensure_annotation_configs(self, extra: Iterable[dict[str, Any]] = ()) -> str | None:
        """Our annotation configs (and ``extra`` ones) exist in Phoenix and are assigned to the
        project (the UI's Annotate form then offers our labels); a failure is a note, never a
        lost delivery."""
        if not self.project:
            return None
        import httpx

        from phoenix_delivery import annotation_configs

        try:
            changed = annotation_configs.ensure(self._http(), self.project, extra)
        except httpx.HTTPError as exc:
            return f"Phoenix annotation configs not set ({type(exc).__name__}: {exc})"
        return f"Phoenix annotation configs: {', '.join(changed)}." if changed else None

    def _deliver(self, record: Record) -> bool:
        """True when stored; False when Phoenix is unreachable; ``Refused`` when it answered
        but did not store the record."""
        import httpx

        try:
            if record["kind"] == "spans":
                self._post_spans(base64.b64decode(record["payload"]))
            elif record["kind"] == "annotations":
                self._post_annotations(record["payload"])
            elif record["kind"] == "document_annotations":
                # stored once Phoenix's synchronous endpoint answers with their ids
                self._send_sync(record["payload"], documents=True)
            return True
        except httpx.HTTPStatusError as exc:
            reason = f"HTTP {exc.response.status_code} from {exc.request.url.path}"
        except httpx.TransportError as exc:
            self._error = f"{type(exc).__name__}: Phoenix is unreachable at {self.endpoint}"
            log.warning("Phoenix unreachable: %s (%s)", self._error, exc)
            return False
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:300]
        self._error = reason
        log.warning("Phoenix refused a %s record: %s", record["kind"], reason)
        raise Refused(reason)

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _post_spans(self, data: bytes) -> None:
        """Send one batch, then (with a project) read its span ids back: Phoenix answers 200
        before it stores spans, so only spans found again leave the spool."""
        response = self._http().post(
            traces_url(self.endpoint),
            content=data,
            headers={"content-type": "application/x-protobuf"},
        )
        response.raise_for_status()
        if self.project:
            self._confirm_spans(span_ids(data))

    def _confirm_spans(self, ids: list[str]) -> None:
        def stored(wanted: set[str]) -> set[str]:
            waiting, found = sorted(wanted), set()
            for start in range(0, len(waiting), 100):
                chunk = waiting[start : start + 100]
                spans = self._phoenix().spans.get_spans(
                    project_identifier=self.project, span_ids=chunk, limit=len(chunk)
                )
                found |= {span["context"]["span_id"] for span in spans}
            return found

        left = self._read_back(set(ids), stored, self._ingest_wait, delay=0.1)
        if left:
            raise Refused(
                f"{len(left)} of {len(ids)} span(s) not stored {self._ingest_wait:.0f} s "
                "after Phoenix accepted them (lost by a crash or restart?); resent later"
            )

    @staticmethod
    def _read_back(
        wanted: set[Any], stored: Callable[[set[Any]], set[Any]], seconds: float, delay: float
    ) -> set[Any]:
        """Poll ``stored(wanted)`` (what of it Phoenix has stored; its 404 means nothing of the
        project yet) with back-off until all is stored or ``seconds`` pass; return what is not."""
        import httpx

        deadline = time.monotonic() + seconds
        while wanted:
            try:
                wanted = wanted - stored(wanted)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
            if not wanted or time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        return wanted

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

        client = self._phoenix()
        client.spans.log_span_annotations(span_annotations=annotations, sync=False)

        def stored(wanted: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
            found = client.spans.get_span_annotations(
                span_ids=sorted({span_id for span_id, _, _ in wanted}),
                project_identifier=self.project,
            )
            return {(a["span_id"], a["name"], a.get("identifier") or "") for a in found}

        wanted = {(a["span_id"], a["name"], a.get("identifier", "")) for a in annotations}
        seconds = min(self._ingest_wait, 10.0)
        time.sleep(0.2)  # the asynchronous endpoint has just queued them
        return not self._read_back(wanted, stored, seconds - 0.2, delay=0.4)

    def _send_sync(self, annotations: list[dict[str, Any]], documents: bool = False) -> None:
        import httpx

        client = self._phoenix()

        def send() -> None:
            if documents:
                client.spans.log_document_annotations(document_annotations=annotations, sync=True)
            else:
                client.spans.log_span_annotations(span_annotations=annotations, sync=True)

        deadline = time.monotonic() + self._ingest_wait
        delay = 0.25
        while True:
            try:
                send()
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
