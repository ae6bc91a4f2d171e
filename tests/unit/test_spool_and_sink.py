"""The Phoenix spool, the sink that drains it, and user-feedback annotations."""

import base64
import json

import pytest
from supportbot import feedback

from evals_core.tracing import memory_provider
from phoenix_delivery.phoenix_sink import Delivery, PhoenixSink
from phoenix_delivery.spool import Refused, Spool

#: Port 9 (discard) on loopback: nothing listens there, so a connection is refused at once.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def spool(tmp_path):
    return Spool(tmp_path / "spool" / "phoenix-spool.jsonl")


def payloads(records):
    return [r["payload"] for r in records]


def test_empty_spool_has_nothing_pending(spool):
    assert spool.pending() == []
    assert spool.drain(lambda r: True) == (0, 0)


def test_append_keeps_order_and_kind(spool):
    spool.append("spans", "A")
    spool.append("annotations", [{"x": 1}])
    spool.append("spans", "C")
    records = spool.pending()
    assert [r["kind"] for r in records] == ["spans", "annotations", "spans"]
    assert payloads(records) == ["A", [{"x": 1}], "C"]
    assert len({r["id"] for r in records}) == 3


def test_drain_offers_records_in_order_and_empties_the_spool(spool):
    for p in "ABC":
        spool.append("spans", p)
    seen = []
    assert spool.drain(lambda r: seen.append(r["payload"]) or True) == (3, 0)
    assert seen == ["A", "B", "C"]
    assert spool.pending() == []
    assert not spool.path.exists()


def test_drain_stops_at_first_refusal_and_keeps_the_rest(spool):
    for p in "ABCD":
        spool.append("spans", p)
    offered = []

    def deliver(record):
        offered.append(record["payload"])
        return record["payload"] != "B"

    assert spool.drain(deliver) == (1, 3)
    assert offered == ["A", "B"]  # nothing after the refusal is offered
    assert payloads(spool.pending()) == ["B", "C", "D"]
    # The next drain starts again at the refused record.
    assert spool.drain(lambda r: True) == (3, 0)


def test_drain_keeps_record_ids(spool):
    spool.append("spans", "A")
    spool.append("spans", "B")
    before = spool.pending()
    spool.drain(lambda r: False)
    assert spool.pending() == before


def test_corrupt_line_is_moved_to_rejected_file_not_lost(spool):
    spool.append("spans", "A")
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "cut", "kind": "spans", "payl\n')
    spool.append("spans", "B")
    assert payloads(spool.pending()) == ["A", "B"]  # the cut line is no record

    delivered = []
    assert spool.drain(lambda r: delivered.append(r["payload"]) or True) == (2, 0)
    assert delivered == ["A", "B"]
    rejected = spool.path.with_suffix(".rejected")
    assert rejected.read_text(encoding="utf-8") == '{"id": "cut", "kind": "spans", "payl\n'


def test_corrupt_line_is_set_aside_even_when_delivery_is_refused(spool):
    spool.path.parent.mkdir(parents=True)
    spool.path.write_text("not json at all\n", encoding="utf-8")
    spool.append("spans", "A")
    assert spool.drain(lambda r: False) == (0, 1)
    assert payloads(spool.pending()) == ["A"]
    assert "not json at all" in spool.path.with_suffix(".rejected").read_text(encoding="utf-8")


def test_record_appended_after_a_truncated_last_line_is_delivered(spool):
    spool.append("spans", "A")
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "cut", "kind": "spa')  # a crash mid-append: no newline
    spool.append("spans", "B")
    delivered = []
    spool.drain(lambda r: delivered.append(r["payload"]) or True)
    assert delivered == ["A", "B"]


# -- PhoenixSink ---------------------------------------------------------------------------


def finished_spans():
    provider, exporter = memory_provider("unit-tests")
    tracer = provider.get_tracer("unit")
    with tracer.start_as_current_span("root"), tracer.start_as_current_span("child"):
        pass
    spans = exporter.get_finished_spans()
    provider.shutdown()
    return spans


def test_sink_endpoint_is_the_base_url(tmp_path):
    sink = PhoenixSink(UNREACHABLE + "/v1/traces/", tmp_path / "s.jsonl")
    assert sink.endpoint == UNREACHABLE


def test_add_spans_spools_otlp_protobuf(tmp_path):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    sink = PhoenixSink(UNREACHABLE, tmp_path / "s.jsonl")
    sink.add_spans([])  # nothing to send: nothing spooled
    assert sink.spool.pending() == []
    sink.add_spans(finished_spans())
    (record,) = sink.spool.pending()
    assert record["kind"] == "spans"
    request = ExportTraceServiceRequest.FromString(base64.b64decode(record["payload"]))
    names = {s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}
    assert names == {"root", "child"}


def test_add_annotations_batches(tmp_path, monkeypatch):
    monkeypatch.setattr("phoenix_delivery.phoenix_sink.BATCH_SIZE", 2)
    sink = PhoenixSink(UNREACHABLE, tmp_path / "s.jsonl")
    notes = [feedback.feedback_annotation(f"{i:016x}", "up", "faq") for i in range(5)]
    sink.add_annotations(notes)
    records = sink.spool.pending()
    assert [len(r["payload"]) for r in records] == [2, 2, 1]
    assert [a for r in records for a in r["payload"]] == notes


def test_unreachable_phoenix_keeps_everything_pending(tmp_path):
    path = tmp_path / "spool" / "phoenix-spool.jsonl"
    sink = PhoenixSink(UNREACHABLE, path, timeout=2.0, ingest_wait=0.0)
    sink.add_spans(finished_spans())
    sink.add_annotations([feedback.feedback_annotation("a" * 16, "down", "order_status")])
    before = sink.spool.pending()
    assert len(before) == 2

    delivery = sink.flush()
    assert delivery.delivered == 0
    assert delivery.pending == 2
    assert delivery.requests == 1  # stopped at the spans: annotations never go first
    assert delivery.error is not None
    assert "unreachable" in delivery.error.lower()
    assert sink.spool.pending() == before

    text = delivery.describe(sink.endpoint, path)
    assert str(path) in text
    assert "2 record(s) kept in" in text and "not reachable" in text
    assert UNREACHABLE in text

    # A second attempt is just as safe.
    assert sink.flush().pending == 2
    assert sink.spool.pending() == before


def test_unreachable_phoenix_keeps_annotations_pending(tmp_path):
    sink = PhoenixSink(UNREACHABLE, tmp_path / "s.jsonl", timeout=2.0, ingest_wait=0.0)
    sink.add_annotations([feedback.feedback_annotation("b" * 16, "up", "faq")])
    delivery = sink.flush()
    assert (delivery.delivered, delivery.pending) == (0, 1)
    assert delivery.error
    assert len(sink.spool.pending()) == 1


def test_delivery_describe_when_all_delivered(tmp_path):
    text = Delivery(delivered=3, pending=0, requests=3).describe(UNREACHABLE, tmp_path / "s")
    assert "all delivered" in text
    assert "3" in text


def test_delivery_describe_names_a_backlog_left_for_deliver(tmp_path):
    path = tmp_path / "s.jsonl"
    text = Delivery(delivered=0, pending=1, requests=0, skipped=1).describe(UNREACHABLE, path)
    assert str(path) in text
    assert "supportbot deliver" in text


def records(spool):
    return [r["payload"] for r in spool.pending()]


def test_a_refused_record_does_not_block_the_records_behind_it(tmp_path):
    spool = Spool(tmp_path / "s.jsonl", max_attempts=3)
    for payload in ("bad", "good-1", "good-2"):
        spool.append("annotations", payload)

    def deliver(record):
        if record["payload"] == "bad":
            raise Refused("HTTP 404 from /v1/span_annotations")
        return True

    assert spool.drain(deliver) == (2, 1)
    assert spool.last.refused == ["HTTP 404 from /v1/span_annotations"]
    (kept,) = spool.pending()
    assert (kept["payload"], kept["attempts"]) == ("bad", 1)
    assert "404" in kept["last_error"]


def test_a_record_refused_max_attempts_times_is_dead_lettered_and_can_be_retried(tmp_path):
    spool = Spool(tmp_path / "s.jsonl", max_attempts=3)
    spool.append("annotations", "bad")

    def refuse(record):
        raise Refused("HTTP 422")

    for _ in range(2):
        assert spool.drain(refuse) == (0, 1)
    assert spool.drain(refuse) == (0, 0)
    assert spool.last.dead == 1
    dead = [json.loads(line) for line in spool.dead_letters.read_text().splitlines()]
    assert [(d["payload"], d["attempts"]) for d in dead] == [("bad", 3)]
    assert not spool.path.exists()

    assert spool.retry_dead_letters() == 1
    assert records(spool) == ["bad"] and "attempts" not in spool.pending()[0]
    assert not spool.dead_letters.exists()


def test_unreachable_stops_without_counting_an_attempt(tmp_path):
    spool = Spool(tmp_path / "s.jsonl")
    spool.append("spans", "a")
    spool.append("annotations", "b")
    assert spool.drain(lambda r: False) == (0, 2)
    assert spool.last.unreachable
    assert all("attempts" not in r for r in spool.pending())


def test_only_new_records_are_offered_in_the_foreground(tmp_path):
    spool = Spool(tmp_path / "s.jsonl")
    spool.append("annotations", "old")

    def refuse(record):
        raise Refused("HTTP 404")

    spool.drain(refuse)  # "old" has been tried once: it is backlog now
    spool.append("annotations", "new")
    offered = []
    assert spool.drain(lambda r: offered.append(r["payload"]) or True, only_new=True) == (1, 1)
    assert offered == ["new"] and records(spool) == ["old"]
    assert spool.last.skipped == 1


def test_deliver_reports_a_set_aside_line_and_fails(tmp_path, capsys):
    from supportbot.cli import main

    path = tmp_path / "s.jsonl"
    path.write_text('{"kind": "spans", "payload": "cut off by a cra\n')
    code = main(["--phoenix", UNREACHABLE, "--spool", str(path), "deliver"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 damaged spool line(s)" in out and ".rejected" in out


# -- feedback --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("y", "up"),
        ("Yes", "up"),
        (" 1 ", "up"),
        ("n", "down"),
        ("NO", "down"),
        ("0", "down"),
        ("s", None),
        ("skip", None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_rating(text, rating):
    assert feedback.parse_rating(text) == rating


@pytest.mark.parametrize("text", ["maybe", "yy", "2", "thumbs up"])
def test_parse_rating_rejects_anything_else(text):
    with pytest.raises(ValueError, match="not a rating"):
        feedback.parse_rating(text)


@pytest.mark.parametrize(
    ("rating", "label", "score"), [("up", "thumbs-up", 1.0), ("down", "thumbs-down", 0.0)]
)
def test_feedback_annotation(rating, label, score):
    span_id = "0123456789abcdef"
    note = feedback.feedback_annotation(span_id, rating, "faq", source="unit-test")
    assert note == {
        "span_id": span_id,
        "name": "user_feedback",
        "annotator_kind": "HUMAN",
        "result": {"label": label, "score": score},
        "identifier": f"unit-test:{span_id}",
        "metadata": {"category": "faq", "source": "unit-test"},
    }
    json.dumps(note)  # goes through the spool as JSON


def test_feedback_annotation_default_source():
    note = feedback.feedback_annotation("f" * 16, "down", "order_status")
    assert note["metadata"] == {"category": "order_status", "source": "supportbot-cli"}
    assert note["identifier"] == "supportbot-cli:" + "f" * 16


def test_spooling_exporter_spools_spans(tmp_path):
    from opentelemetry.sdk.trace.export import SpanExportResult

    sink = PhoenixSink(UNREACHABLE, tmp_path / "s.jsonl")
    exporter = feedback.SpoolingSpanExporter(sink)
    assert exporter.export(finished_spans()) is SpanExportResult.SUCCESS
    assert [r["kind"] for r in sink.spool.pending()] == ["spans"]
    assert exporter.force_flush() is True


def test_a_failed_judgement_is_never_an_empty_annotation():
    from evals_core.judges import Verdict
    from phoenix_delivery.phoenix_payloads import JUDGE_ERROR, verdict_annotation

    failed = Verdict(
        "retrieval_relevance", "a" * 16, "b" * 32, None, None, "", "LLM", "judge-m", "timeout"
    )
    note = verdict_annotation(failed, {"agent_model": "agent-m"})
    assert note["result"] == {"label": JUDGE_ERROR, "explanation": "judge failed: timeout"}
    assert note["metadata"] == {"agent_model": "agent-m", "model": "judge-m"}
    assert note["identifier"] == "judge:retrieval_relevance"
