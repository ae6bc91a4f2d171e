"""Spool semantics against a real ``phoenix serve``: a record leaves the spool only once Phoenix
has stored it, and a record Phoenix keeps refusing is dead-lettered without blocking the rest.

``LossyProxy`` is a FAKE in front of the real Phoenix: it answers ``POST /v1/traces`` with 200
and drops the spans, which is what a Phoenix killed right after acknowledging an ingest does
(it stores spans asynchronously). Everything else is forwarded to the real server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from supportbot.feedback import feedback_annotation

from evals_core.tracing import memory_provider
from phoenix_delivery.phoenix_sink import PhoenixSink
from phoenix_delivery.spool import Spool


class LossyProxy:
    """A FAKE: acknowledges span ingests without passing them on; forwards everything else.

    With ``kill_after_ingest`` (the real Phoenix's ``kill``) it forwards the ingest instead and
    kills Phoenix with SIGKILL the moment Phoenix has answered it: the crash the spool must
    survive."""

    def __init__(
        self,
        target: str,
        kill_after_ingest: Callable[[], None] | None = None,
        *,
        drop: bool = True,
        delay: float = 0.0,
        read_delay: float = 0.0,
    ) -> None:
        """``drop=False``: pass ingests on; ``delay``: answer every request that late (a slow
        Phoenix); ``read_delay``: answer reads (GET) that late. All four can be changed while
        the proxy runs (``heal()``: a plain relay): a record is delivered to the endpoint it was
        queued for, so a test's next delivery goes through the same proxy."""
        proxy = self
        self.kill, self.drop, self.delay, self.read_delay = (
            kill_after_ingest,
            drop,
            delay,
            read_delay,
        )

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                ingest = self.command == "POST" and self.path.startswith("/v1/traces")
                time.sleep(proxy.delay + (proxy.read_delay if self.command == "GET" else 0.0))
                kill_after_ingest = proxy.kill
                if ingest and kill_after_ingest is None and proxy.drop:
                    proxy.dropped += 1
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                try:
                    answer = httpx.request(
                        self.command, target + self.path, content=body, headers=headers, timeout=30
                    )
                except httpx.TransportError:
                    self.send_response(502)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if ingest and kill_after_ingest is not None and answer.status_code == 200:
                    kill_after_ingest()  # Phoenix said 200, and dies before it stores anything
                    proxy.killed += 1
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    hop = ("content-length", "content-encoding", "transfer-encoding", "connection")
                    if name.lower() not in hop:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = _relay

            def log_message(self, *args: object) -> None:
                pass

        self.dropped = self.killed = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def heal(self) -> None:
        self.kill, self.drop, self.delay, self.read_delay = None, False, 0.0, 0.0

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def lossy(phoenix_url):
    proxy = LossyProxy(phoenix_url)
    yield proxy
    proxy.close()


def agent_spans(project: str, n: int = 2):
    provider, exporter = memory_provider(project)
    tracer = provider.get_tracer("spool-test")
    for i in range(n):
        with tracer.start_as_current_span(f"support-agent-{i}") as span:
            span.set_attribute("openinference.span.kind", "AGENT")
    return list(exporter.get_finished_spans())


def span_hex(span) -> str:
    return format(span.context.span_id, "016x")


def stored_span_ids(client, project, ids):
    return {s["context"]["span_id"] for s in client.spans.get_spans(
        project_identifier=project, span_ids=ids, limit=len(ids)
    )}  # fmt: skip


def test_spans_acknowledged_but_never_stored_stay_in_the_spool_until_stored(
    lossy, phoenix_url, phoenix_client, project, tmp_path
):
    spool = tmp_path / "spool.jsonl"
    spans = agent_spans(project)
    ids = [span_hex(s) for s in spans]
    note = feedback_annotation(ids[0], "down", "faq")

    lossy_sink = PhoenixSink(lossy.url, spool, project=project, ingest_wait=1.5)
    lossy_sink.add_spans(spans)
    lossy_sink.add_annotations([note])
    first = lossy_sink.flush()

    assert lossy.dropped == 1
    assert (first.delivered, first.pending) == (0, 2)
    assert not first.unreachable and not first.refused
    assert first.unconfirmed == 1  # the annotations wait behind their spans, untried
    text = first.describe(lossy.url, spool)
    assert "pending" in text and "not reachable" not in text and "lost" not in text
    kept = lossy_sink.spool.pending()
    assert [(r["kind"], r.get("attempts")) for r in kept] == [
        ("spans", None),
        ("annotations", None),
    ]

    lossy.heal()
    second = PhoenixSink(phoenix_url, spool, project=project).flush()  # to where it was queued

    assert (second.delivered, second.pending) == (2, 0), second
    assert not spool.exists()
    assert stored_span_ids(phoenix_client, project, ids) == set(ids)
    found = phoenix_client.spans.get_span_annotations(span_ids=ids, project_identifier=project)
    assert [(a["span_id"], a["result"]["label"]) for a in found] == [(ids[0], "thumbs-down")]


def test_a_record_phoenix_keeps_refusing_is_dead_lettered_without_blocking_the_rest(
    phoenix_url, phoenix_client, project, tmp_path, capsys
):
    from supportbot.cli import main

    spool = tmp_path / "spool.jsonl"
    sink = PhoenixSink(phoenix_url, spool, project=project, ingest_wait=0.5)
    sink.spool.max_attempts = 2
    sink.add_annotations([feedback_annotation("f" * 16, "down", "faq")])  # no such span, ever
    spans = agent_spans(project, n=1)
    sink.add_spans(spans)

    first = sink.flush()
    assert (first.delivered, first.pending) == (1, 1)  # the spans behind it went through
    assert stored_span_ids(phoenix_client, project, [span_hex(spans[0])])
    second = sink.flush()
    assert (second.delivered, second.pending, second.dead) == (0, 0, 1)
    text = second.describe(phoenix_url, spool)
    assert str(spool) + ".dead" in text and "supportbot deliver --retry-dead" in text

    code = main(["--phoenix", phoenix_url, "--spool", str(spool), "deliver", "--retry-dead"])
    out = capsys.readouterr().out
    assert "1 dead-lettered record(s) put back" in out
    assert code == 1  # refused again: said, and not lost
    assert len(sink.spool.pending()) == 1


def test_phoenix_killed_right_after_it_acknowledged_spans_gets_everything_once(
    phoenix, phoenix_client, project, tmp_path
):
    """kill -9 of Phoenix the moment it answered 200 to /v1/traces, then a restart: the next
    delivery stores every span and annotation exactly once."""
    spool = tmp_path / "spool.jsonl"
    spans = agent_spans(project, n=3)
    ids = [span_hex(s) for s in spans]
    notes = [feedback_annotation(i, "down", "faq") for i in ids]
    killer = LossyProxy(phoenix.url, kill_after_ingest=phoenix.kill)
    try:
        sink = PhoenixSink(killer.url, spool, project=project, ingest_wait=2.0)
        sink.add_spans(spans)
        sink.add_annotations(notes)
        first = sink.flush()
    finally:
        killer.heal()
        phoenix.start()  # same port and working dir: what it stored before the kill persists

    assert killer.killed == 1
    assert first.delivered == 0 and first.pending == 2  # nothing confirmed stored: all kept

    try:  # each record goes where it was queued: through the (now plain) proxy
        second = PhoenixSink(phoenix.url, spool, project=project).flush()
        third = PhoenixSink(phoenix.url, spool, project=project).flush()  # changes nothing
    finally:
        killer.close()

    assert (second.delivered, second.pending) == (2, 0), second
    assert (third.delivered, third.pending) == (0, 0)
    stored = phoenix_client.spans.get_spans(project_identifier=project, span_ids=ids, limit=100)
    assert sorted(s["context"]["span_id"] for s in stored) == sorted(ids)  # each exactly once
    found = phoenix_client.spans.get_span_annotations(span_ids=ids, project_identifier=project)
    assert sorted(a["span_id"] for a in found) == sorted(ids)  # one thumbs-down per span


def test_a_slow_read_back_after_a_200_keeps_the_record_pending_never_unreachable(
    phoenix_url, phoenix_client, project, tmp_path
):
    spool = tmp_path / "spool.jsonl"
    spans = agent_spans(project, n=2)
    ids = [span_hex(s) for s in spans]
    slow = LossyProxy(phoenix_url, drop=False, read_delay=2.0)
    try:
        sink = PhoenixSink(slow.url, spool, project=project, timeout=1.0, budget=10)
        sink.add_spans(spans)
        first = sink.flush()
        assert (first.delivered, first.pending, first.unconfirmed) == (0, 1, 1), first
        assert not first.unreachable and not first.refused
        assert "pending" in first.describe(slow.url, spool)
        (kept,) = Spool(spool).pending()
        assert kept["sent"] and "attempts" not in kept

        slow.heal()
        second = PhoenixSink(phoenix_url, spool, project=project).flush()
    finally:
        slow.close()
    assert (second.delivered, second.pending) == (1, 0), second
    assert second.requests == 2  # phoenix-client's version check and the read-back: no re-send
    stored = phoenix_client.spans.get_spans(project_identifier=project, span_ids=ids, limit=10)
    assert sorted(s["context"]["span_id"] for s in stored) == sorted(ids)


def test_a_phoenix_answering_in_4_s_cannot_hold_deliver_past_its_budget(
    phoenix_url, phoenix_client, project, tmp_path, monkeypatch, capsys
):
    from supportbot.cli import main

    spool = tmp_path / "spool.jsonl"
    slow = LossyProxy(phoenix_url, drop=False, delay=4.0)
    sink = PhoenixSink(slow.url, spool, project=project)
    batches = [agent_spans(project, n=1) for _ in range(4)]
    for spans in batches:
        sink.add_spans(spans)
    monkeypatch.setenv("SUPPORTBOT_PHOENIX_BUDGET", "5")
    try:
        started = time.monotonic()
        code = main(["--phoenix", slow.url, "--spool", str(spool), "deliver"])
        took = time.monotonic() - started
        out = capsys.readouterr().out
        assert took < 7, took
        assert code == 1 and "5 s budget ran out" in out and "not reachable" not in out
        assert 1 <= len(Spool(spool).pending()) <= 4  # what did not make it waits

        slow.heal()
        monkeypatch.delenv("SUPPORTBOT_PHOENIX_BUDGET")
        assert main(["--phoenix", phoenix_url, "--spool", str(spool), "deliver"]) == 0
    finally:
        slow.close()
    ids = [span_hex(s) for spans in batches for s in spans]
    stored = phoenix_client.spans.get_spans(project_identifier=project, span_ids=ids, limit=10)
    assert sorted(s["context"]["span_id"] for s in stored) == sorted(ids)  # each once


def test_records_of_two_projects_are_each_stored_in_their_own(
    phoenix_url, phoenix_client, tmp_path, monkeypatch, capsys
):
    from supportbot.cli import main

    spool = tmp_path / "spool.jsonl"
    first, second = (
        "two-a-" + span_hex(agent_spans("x")[0]),
        "two-b-" + span_hex(agent_spans("y")[0]),
    )
    queued = {}
    for name in (first, second):
        spans = agent_spans(name, n=1)
        sink = PhoenixSink(phoenix_url, spool, project=name)
        sink.add_spans(spans)
        sink.add_annotations([feedback_annotation(span_hex(spans[0]), "up", "faq")])
        queued[name] = span_hex(spans[0])
    monkeypatch.setenv("PHOENIX_PROJECT_NAME", "some-third-project")
    assert main(["--phoenix", phoenix_url, "--spool", str(spool), "deliver"]) == 0, (
        capsys.readouterr()
    )
    for name, span_id in queued.items():
        assert stored_span_ids(phoenix_client, name, [span_id]) == {span_id}
        found = phoenix_client.spans.get_span_annotations(
            span_ids=[span_id], project_identifier=name
        )
        assert [a["result"]["label"] for a in found] == ["thumbs-up"]


def test_four_thousand_spans_are_confirmed_or_pending_never_lost(
    phoenix_url, phoenix_client, project, tmp_path
):
    """The end of a 1,000-golden run: Phoenix ingests slower than the read-back waits."""
    spool = tmp_path / "spool.jsonl"
    spans = agent_spans(project, n=4000)
    sink = PhoenixSink(phoenix_url, spool, project=project, ingest_wait=0.3)
    for start in range(0, len(spans), 1000):
        sink.add_spans(spans[start : start + 1000])
    first = sink.flush()
    text = first.describe(phoenix_url, spool)
    assert "lost" not in text and not first.refused and not first.dead, text
    assert first.delivered + first.unconfirmed == 4
    deadline = time.monotonic() + 300  # Phoenix on a loaded CI machine ingests slowly
    while Spool(spool).pending() and time.monotonic() < deadline:
        later = PhoenixSink(phoenix_url, spool, project=project, ingest_wait=60).flush()
        assert not later.refused and not later.dead, later
    assert not Spool(spool).pending()
    ids = [span_hex(s) for s in spans]
    stored = phoenix_client.spans.get_spans(project_identifier=project, limit=5000)
    assert sorted(s["context"]["span_id"] for s in stored) == sorted(ids)  # each once
