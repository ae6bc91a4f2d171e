"""Deliver spans and span annotations to Phoenix through a spool: nothing is lost, nothing doubled.

Each record is queued with its project and endpoint (credentials taken out of the URL: they never
reach the spool) and delivered there (``sending.Sender``). Every network wait of a flush shares
one budget (``budget.Deadline``): what does not make it in time stays in the spool.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evals_core.tracing import base_url, public_url
from phoenix_delivery.budget import DELIVERY_BUDGET, Deadline
from phoenix_delivery.delivery import Delivery
from phoenix_delivery.phoenix_payloads import encode_spans
from phoenix_delivery.sending import Sender
from phoenix_delivery.spool import Record, Refused, Spool, Unconfirmed

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
    except httpx.TimeoutException as exc:
        raise ValueError(
            f"Phoenix at {endpoint} did not answer within the budget ({exc}); raise "
            "SUPPORTBOT_PHOENIX_BUDGET (or EVALS_PHOENIX_BUDGET) or check the server."
        ) from None
    except httpx.TransportError as exc:
        raise ValueError(
            f"Phoenix is not reachable at {endpoint} ({exc}); start it "
            "(supportbot serve phoenix) or fix --phoenix."
        ) from None


class PhoenixSink:
    #: The record kinds this version delivers; any other kind stays in the spool untouched.
    KINDS = ("spans", "annotations", "document_annotations")

    def __init__(
        self,
        endpoint: str,
        spool_path: Path = DEFAULT_SPOOL,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        ingest_wait: float = 20.0,
        project: str | None = None,
        budget: float = DELIVERY_BUDGET,
        reroute: bool = False,
    ) -> None:
        """``project``: the Phoenix project the spans go to; with it, annotations are sent
        asynchronously and then confirmed by reading them back (fast); without it, they are
        sent synchronously (durable, but Phoenix inserts them slowly). ``budget``: the most
        seconds one ``flush`` waits on the network, all requests and read-backs together.
        ``reroute``: send every record to this sink's endpoint, whatever endpoint it was queued
        for (``supportbot deliver --reroute``, after a wrong or retired Phoenix URL)."""
        self.endpoint = base_url(endpoint)
        #: The endpoint as printed and spooled: without any ``user:password@``.
        self.public_endpoint = public_url(self.endpoint)
        self.project = project
        self.spool = Spool(spool_path)
        self.budget = budget
        self.deadline = Deadline(budget)
        self._api_key = api_key
        self._timeout = timeout
        self._ingest_wait = ingest_wait
        self._requests = 0
        self._error: str | None = None
        self._senders: dict[str, Sender] = {}
        self._reroute = reroute
        #: The endpoint of the record delivery stopped at (for messages).
        self._failed_at: str | None = None

    # -- enqueue -----------------------------------------------------------------------------

    def _append(self, kind: str, payload: Any) -> None:
        self.spool.append(kind, payload, project=self.project, endpoint=self.public_endpoint)

    def add_spans(self, spans: Sequence[Any]) -> None:
        """Queue finished OpenTelemetry spans (``ReadableSpan``) for export."""
        if spans:
            self.add_encoded_spans(encode_spans(spans))

    def add_encoded_spans(self, encoded: str) -> None:
        """Queue spans already encoded by ``encode_spans`` (e.g. sent by an xdist worker)."""
        self._append("spans", encoded)

    def add_annotations(
        self, annotations: Sequence[dict[str, Any]], kind: str = "annotations"
    ) -> None:
        for start in range(0, len(annotations), BATCH_SIZE):
            self._append(kind, list(annotations[start : start + BATCH_SIZE]))

    def add_document_annotations(self, annotations: Sequence[dict[str, Any]]) -> None:
        """Annotations of retrieved documents (``document_position``), sent after the spans."""
        self.add_annotations(annotations, "document_annotations")

    # -- deliver -----------------------------------------------------------------------------

    def deliver_run(
        self,
        spans: Sequence[Any],
        encoded: Iterable[str],
        annotations: Sequence[dict[str, Any]],
        document_annotations: Sequence[dict[str, Any]],
        configs: Callable[[], Iterable[dict[str, Any]]] = tuple,
        *,
        deliver: str | None = "supportbot deliver",
        budget: str = "SUPPORTBOT_PHOENIX_BUDGET",
    ) -> str:
        """Queue an eval run's spans (objects, and OTLP already encoded) and annotations, flush
        them, and once Phoenix stored some, put the annotation ``configs()`` in place; the
        message says what was delivered and what waits in the spool (naming the caller's
        ``deliver`` command and ``budget`` variable, as :meth:`Delivery.describe`)."""
        self.add_spans(spans)
        for text in encoded:
            self.add_encoded_spans(text)
        self.add_annotations(annotations)
        self.add_document_annotations(document_annotations)
        delivery = self.flush()
        note = delivery.describe(self.public_endpoint, self.spool.path, deliver, budget)
        if delivery.delivered:
            ensured = self.ensure_annotation_configs(configs())
            note += "\n" + (ensured or "Phoenix annotation configs in place.")
        return note

    def flush(self, *, only_new: bool = False, budget: float | None = None) -> Delivery:
        """Send what waits in the spool, in order, each record to its own endpoint and project;
        keep what Phoenix has not stored.

        ``only_new``: a foreground command sends its own new records and never waits on an old
        backlog (``supportbot deliver`` and eval runs send everything). ``budget`` (seconds,
        default the sink's): every network wait of this flush ends within it.
        """
        self._requests, self._error, self._failed_at = 0, None, None
        self.deadline.restart(self.budget if budget is None else budget)
        delivered, pending = self.spool.drain(
            self._deliver, only_new=only_new, deadline=self.deadline.at, kinds=self.KINDS
        )
        r = self.spool.last
        error = self._error
        if r.out_of_time:
            error = f"the {self.deadline.seconds:g} s budget ran out"
        return Delivery(
            delivered,
            pending,
            self._requests,
            error,
            refused=tuple(r.refused),
            dead=r.dead,
            set_aside=r.set_aside,
            skipped=r.skipped,
            unreachable=r.unreachable,
            unconfirmed=r.unconfirmed,
            unknown=r.unknown,
            out_of_time=r.out_of_time,
            busy=r.busy,
            dead_total=self.spool.dead_count(),
            endpoint=self._failed_at,
        )

    def ensure_annotation_configs(self, extra: Iterable[dict[str, Any]] = ()) -> str | None:
        """Our annotation configs (and ``extra`` ones) exist in Phoenix and are assigned to the
        project (the UI's Annotate form then offers our labels); a failure is a note, never a
        lost delivery."""
        if not self.project:
            return None
        import httpx

        from phoenix_delivery import annotation_configs

        if self.deadline.passed:  # never past the command's budget
            return "Phoenix annotation configs not checked: the time budget is spent."
        try:
            changed = annotation_configs.ensure(self.sender().http, self.project, extra)
        except httpx.HTTPError as exc:
            return f"Phoenix annotation configs not set ({type(exc).__name__}: {exc})"
        return f"Phoenix annotation configs: {', '.join(changed)}." if changed else None

    def sender(self, endpoint: str | None = None) -> Sender:
        """The sender for ``endpoint`` (a spooled, public URL; default this sink's). This sink's
        own endpoint keeps its credentials; another gets the same API key."""
        public = endpoint or self.public_endpoint
        if public not in self._senders:

            def count(_request: Any) -> None:
                self._requests += 1

            url = self.endpoint if public == self.public_endpoint else public
            self._senders[public] = Sender(
                url,
                self.deadline,
                api_key=self._api_key,
                timeout=self._timeout,
                ingest_wait=self._ingest_wait,
                count=count,
            )
        return self._senders[public]

    def _deliver(self, record: Record) -> bool:
        """True when stored; False when Phoenix is unreachable (or the budget is spent);
        ``Unconfirmed`` when accepted but not seen stored yet; ``Refused`` when it answered
        but did not store the record."""
        import httpx

        sender = self.sender(None if self._reroute else record.get("endpoint"))
        project = record.get("project", self.project)
        try:
            if record["kind"] == "spans":
                data = base64.b64decode(record["payload"])
                sender.post_spans(data, project, resent=bool(record.get("sent")))
            elif record["kind"] == "annotations":
                sender.post_annotations(record["payload"], project)
            else:  # document annotations: stored once the synchronous endpoint answers
                sender.send_sync(record["payload"], documents=True)
            return True
        except Unconfirmed as exc:
            self._error = str(exc)
            raise
        except httpx.HTTPStatusError as exc:
            reason = f"HTTP {exc.response.status_code} from {exc.request.url.path}"
        except httpx.TransportError as exc:
            where = self._failed_at = public_url(sender.endpoint)
            self._error = f"{type(exc).__name__}: Phoenix is unreachable at {where}"
            if self.deadline.passed:
                self._error = f"the {self.deadline.seconds:g} s budget ran out"
            log.warning("Phoenix delivery stopped: %s (%s)", self._error, exc)
            return False
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"[:300]
        self._error = reason
        log.warning("Phoenix refused a %s record: %s", record["kind"], reason)
        raise Refused(reason)
