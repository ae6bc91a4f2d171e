"""Sending one spool record to one Phoenix and confirming that it is stored, inside a budget.

Spans go as OTLP/HTTP protobuf to ``/v1/traces``; annotations through phoenix-client's
``spans.log_span_annotations`` in batches, each with an ``identifier`` so that delivering the
same annotation twice (a retry after a lost response) updates instead of duplicating. Phoenix
ingests spans asynchronously, so a read-back may not find them yet: that leaves the record
``Unconfirmed`` (pending, confirmed by the next delivery), never "lost".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from evals_core.tracing import traces_url
from phoenix_delivery.budget import Deadline, client
from phoenix_delivery.phoenix_payloads import span_ids
from phoenix_delivery.spool import Unconfirmed


class Sender:
    """Everything sent to one Phoenix endpoint: one HTTP client, bounded by ``deadline``."""

    def __init__(
        self,
        endpoint: str,
        deadline: Deadline,
        *,
        api_key: str | None,
        timeout: float,
        ingest_wait: float,
        count: Callable[[Any], None],
    ) -> None:
        self.endpoint = endpoint
        self.deadline = deadline
        self.ingest_wait = ingest_wait
        self.http = client(
            deadline,
            api_key=api_key,
            base_url=endpoint,
            timeout=timeout,
            event_hooks={"request": [count]},
        )
        self._client: Any = None

    def phoenix(self) -> Any:
        if self._client is None:
            from phoenix.client import Client

            self._client = Client(base_url=self.endpoint, http_client=self.http)
        return self._client

    def _wait(self, seconds: float) -> float:
        """``seconds`` cut to what is left of the budget."""
        return min(seconds, self.deadline.left())

    # -- spans -------------------------------------------------------------------------------

    def post_spans(self, data: bytes, project: str | None, resent: bool = False) -> None:
        """Send one batch, then (with a project) read its span ids back: Phoenix answers 200
        before it stores spans, so only spans found again leave the spool. A batch already
        sent (``resent``) is waited for first, and sent again only when Phoenix still lacks it
        (a Phoenix that restarted before storing it)."""
        ids = span_ids(data)
        if resent and project and not self._missing_spans(ids, project, self.ingest_wait):
            return
        response = self.http.post(
            traces_url(self.endpoint),
            content=data,
            headers={"content-type": "application/x-protobuf"},
        )
        response.raise_for_status()
        if project:
            left = self._missing_spans(ids, project, self.ingest_wait)
            if left:
                raise Unconfirmed(
                    f"{len(left)} of {len(ids)} span(s) accepted by Phoenix, not stored yet: "
                    "pending, confirmed by the next delivery"
                )

    def _missing_spans(self, ids: list[str], project: str, seconds: float) -> set[str]:
        import httpx

        def stored(wanted: set[str]) -> set[str]:
            waiting, found = sorted(wanted), set()
            for start in range(0, len(waiting), 100):
                chunk = waiting[start : start + 100]
                spans = self.phoenix().spans.get_spans(
                    project_identifier=project, span_ids=chunk, limit=len(chunk)
                )
                found |= {span["context"]["span_id"] for span in spans}
            return found

        try:
            return self.read_back(set(ids), stored, self._wait(seconds), delay=0.1)
        except httpx.TransportError as exc:  # a slow read-back after a 200: not unreachable
            raise Unconfirmed(
                f"{len(ids)} span(s) accepted by Phoenix, not confirmed stored "
                f"({type(exc).__name__}): pending, confirmed by the next delivery"
            ) from None

    @staticmethod
    def read_back(
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

    # -- annotations -------------------------------------------------------------------------

    def post_annotations(self, annotations: list[dict[str, Any]], project: str | None) -> None:
        """Deliver one batch so that it is *stored* before it leaves the spool.

        Fast path (with a project): Phoenix's asynchronous endpoint (its queue also waits for
        spans not ingested yet), then a read-back of the batch; only a confirmed batch counts.
        Otherwise, or when the read-back does not confirm in time: the synchronous endpoint,
        retrying a 404 for spans Phoenix has not stored yet.
        """
        if project and self._send_and_confirm(annotations, project):
            return
        self.send_sync(annotations)

    def _send_and_confirm(self, annotations: list[dict[str, Any]], project: str) -> bool:
        phoenix = self.phoenix()
        phoenix.spans.log_span_annotations(span_annotations=annotations, sync=False)

        def stored(wanted: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
            found = phoenix.spans.get_span_annotations(
                span_ids=sorted({span_id for span_id, _, _ in wanted}),
                project_identifier=project,
            )
            return {(a["span_id"], a["name"], a.get("identifier") or "") for a in found}

        wanted = {(a["span_id"], a["name"], a.get("identifier", "")) for a in annotations}
        seconds = self._wait(min(self.ingest_wait, 10.0))
        time.sleep(min(0.2, seconds))  # the asynchronous endpoint has just queued them
        return not self.read_back(wanted, stored, seconds - 0.2, delay=0.4)

    def send_sync(self, annotations: list[dict[str, Any]], documents: bool = False) -> None:
        import httpx

        phoenix = self.phoenix()

        def send() -> None:
            if documents:
                phoenix.spans.log_document_annotations(document_annotations=annotations, sync=True)
            else:
                phoenix.spans.log_span_annotations(span_annotations=annotations, sync=True)

        deadline = time.monotonic() + self._wait(self.ingest_wait)
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
