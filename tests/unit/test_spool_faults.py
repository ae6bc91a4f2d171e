"""The spool under bad bytes, unknown kinds, concurrency and several Phoenixes; the network budget
under a server that trickles (a FAKE stdlib server: real Phoenix cannot be made to trickle)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from fake_servers import serve
from supportbot.cli import main

from phoenix_delivery.budget import Deadline, client
from phoenix_delivery.phoenix_sink import PhoenixSink
from phoenix_delivery.spool import Refused, Spool, Unconfirmed

UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def spool(tmp_path):
    return Spool(tmp_path / "phoenix-spool.jsonl")


def test_a_line_of_any_bytes_is_set_aside_byte_for_byte_and_the_rest_delivered(spool):
    spool.append("spans", "A")
    junk = b'{"id": "x", "kind": "spans", "payload": "\xff\xfe"}\x00\xc3'
    with spool.path.open("ab") as handle:
        handle.write(junk + b"\n")
    spool.append("spans", "B")
    delivered = []
    assert spool.drain(lambda r: delivered.append(r["payload"]) or True) == (2, 0)
    assert delivered == ["A", "B"]
    assert spool.rejected.read_bytes() == junk + b"\n"
    assert spool.last.set_aside == 1


def test_deliver_with_a_0xff_line_delivers_the_rest_and_later_asks_still_work(tmp_path, capsys):
    path = tmp_path / "s.jsonl"
    Spool(path).append("spans", "QQ==")
    with path.open("ab") as handle:
        handle.write(b"\xff\xff not a record\n")
    code = main(["--phoenix", UNREACHABLE, "--spool", str(path), "deliver"])
    out, err = capsys.readouterr()
    assert code == 1 and "codec" not in out + err
    assert "1 damaged spool line(s)" in out
    assert path.with_suffix(".rejected").read_bytes() == b"\xff\xff not a record\n"
    assert len(Spool(path).pending()) == 1  # kept: Phoenix is down, nothing lost


def test_a_record_of_unknown_kind_is_kept_not_counted_delivered(tmp_path):
    path = tmp_path / "s.jsonl"
    Spool(path).append("future_kind", {"x": 1})
    delivery = PhoenixSink(UNREACHABLE, path).flush()
    assert (delivery.delivered, delivery.pending, delivery.unknown) == (0, 1, 1)
    assert not delivery.ok
    assert "does not deliver" in delivery.describe(UNREACHABLE, path)
    assert [r["kind"] for r in Spool(path).pending()] == ["future_kind"]


def test_the_file_lock_is_not_held_while_a_record_is_on_the_network(spool):
    spool.append("spans", "slow")
    appended = threading.Event()

    def append_meanwhile():
        spool.append("annotations", "new")
        appended.set()

    def slow_deliver(record):
        threading.Thread(target=append_meanwhile).start()
        assert appended.wait(5), "an append waited for the network"
        return True

    assert spool.drain(slow_deliver) == (1, 1)
    assert [r["payload"] for r in spool.pending()] == ["new"]  # appended meanwhile: kept


def test_a_second_deliverer_waits_within_its_budget_and_keeps_everything(spool):
    spool.append("spans", "A")
    inside, release = threading.Event(), threading.Event()

    def blocking(record):
        inside.set()
        release.wait(5)
        return True

    first = threading.Thread(target=spool.drain, args=(blocking,))
    first.start()
    assert inside.wait(5)
    other = Spool(spool.path)
    started = time.monotonic()
    assert other.drain(lambda r: True, deadline=time.monotonic() + 0.3) == (0, 1)
    assert other.last.busy and time.monotonic() - started < 2
    release.set()
    first.join()
    assert spool.pending() == []  # delivered once, by the first


def test_unconfirmed_stays_pending_without_an_attempt_and_holds_what_refers_to_it(spool):
    spool.append("spans", "S")
    spool.append("annotations", "on S")

    def deliver(record):
        raise Unconfirmed("accepted, not stored yet")

    assert spool.drain(deliver) == (0, 2)
    assert spool.last.unconfirmed == 1 and spool.last.skipped == 1
    spans, notes = spool.pending()
    assert spans.get("sent") and "attempts" not in spans and "attempts" not in notes
    assert not spool.dead_letters.exists()


def test_each_record_carries_its_project_and_endpoint_without_credentials(tmp_path):
    path = tmp_path / "s.jsonl"
    sink = PhoenixSink("http://user:pa55word@127.0.0.1:9", path, project="A")
    sink.add_annotations([{"span_id": "a" * 16, "name": "n"}])
    (record,) = Spool(path).pending()
    assert (record["project"], record["endpoint"]) == ("A", "http://127.0.0.1:9")
    assert "pa55word" not in path.read_text()
    text = sink.flush().describe(sink.endpoint, path)
    assert "pa55word" not in text and "127.0.0.1:9" in text


def test_records_go_to_the_endpoint_they_were_queued_for(tmp_path):
    path = tmp_path / "s.jsonl"
    PhoenixSink("http://127.0.0.1:9", path, project="A").add_annotations([{"span_id": "a"}])
    sink = PhoenixSink("http://127.0.0.1:8", path, project="B")
    seen = []
    sink._deliver = lambda r: seen.append((r["endpoint"], r["project"])) or True  # type: ignore[method-assign]
    sink.flush()
    assert seen == [("http://127.0.0.1:9", "A")]
    assert sink.sender("http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"


def test_deliver_exits_non_zero_while_dead_letters_exist(tmp_path, capsys):
    path = tmp_path / "s.jsonl"
    spool = Spool(path, max_attempts=1)
    spool.append("annotations", "bad")
    spool.drain(lambda r: (_ for _ in ()).throw(Refused("HTTP 422")))
    assert spool.dead_count() == 1 and not path.exists()
    code = main(["--phoenix", UNREACHABLE, "--spool", str(path), "deliver"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 record(s) refused" in out and "--retry-dead" in out
    assert "all delivered" in out  # the spool itself is empty; the dead letters are named


# -- the network budget ----------------------------------------------------------------------


class Trickle(BaseHTTPRequestHandler):
    """A FAKE server that answers one byte every 0.5 s, for ever (a read timeout never trips)."""

    def do_GET(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        try:
            while True:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickle():
    server = serve(Trickle)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_trickling_server_cannot_hold_a_request_past_the_budget(trickle):
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        client(Deadline(1.5), timeout=10).get(trickle)
    assert time.monotonic() - started < 3


def test_a_trickling_phoenix_cannot_hold_ask_past_its_budget(trickle, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_PHOENIX_BUDGET", "2")
    path = tmp_path / "s.jsonl"
    PhoenixSink(trickle, path, project="p").add_annotations([{"span_id": "a" * 16, "name": "n"}])
    started = time.monotonic()
    code = main(["--phoenix", trickle, "--spool", str(path), "deliver"])
    assert time.monotonic() - started < 5
    assert code == 1 and len(Spool(path).pending()) == 1  # kept for the next run


def test_a_trickling_phoenix_cannot_hold_export_goldens_past_its_budget(
    trickle, tmp_path, monkeypatch, capsys
):
    from pytest_supportbot_evals.cli.main import main as evals_main

    monkeypatch.setenv("SUPPORTBOT_PHOENIX_BUDGET", "2")
    out = tmp_path / "goldens" / "exported.yaml"
    started = time.monotonic()
    code = evals_main(["export-goldens", "--phoenix", trickle, "--out", str(out)])
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert code != 0 and "did not answer within the budget" in err, err
    assert "SUPPORTBOT_PHOENIX_BUDGET" in err and not out.exists()


def test_the_budget_setting_is_checked(monkeypatch, capsys):
    monkeypatch.setenv("EVALS_PHOENIX_BUDGET", "soon")
    assert main(["--phoenix", UNREACHABLE, "deliver"]) == 2
    assert "PHOENIX_BUDGET" in capsys.readouterr().err


def test_records_written_by_an_older_version_are_delivered(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "old", "kind": "spans", "payload": "QQ=="}) + "\n")
    seen = []
    sink = PhoenixSink(UNREACHABLE, path, project="P")
    sink._deliver = lambda r: seen.append(r.get("project", sink.project)) or True  # type: ignore[method-assign]
    assert sink.flush().delivered == 1 and seen == ["P"]


def test_reroute_sends_records_queued_elsewhere_to_this_phoenix(tmp_path, capsys):
    path = tmp_path / "s.jsonl"
    PhoenixSink("http://127.0.0.1:9", path, project="A").add_annotations([{"span_id": "a"}])
    assert main(["--phoenix", "http://127.0.0.1:7", "--spool", str(path), "deliver"]) == 1
    out = capsys.readouterr().out
    assert "Records queued for Phoenix at http://127.0.0.1:9 wait for it" in out
    asked = []
    sink = PhoenixSink("http://127.0.0.1:7", path, reroute=True)
    real = sink.sender
    sink.sender = lambda endpoint=None: asked.append(endpoint) or real(endpoint)  # type: ignore[method-assign]
    sink.flush()
    assert asked == [None]  # this sink's own endpoint, not the queued one


def test_a_budgeted_client_sends_the_phoenix_key_only_when_there_is_one():
    with client(Deadline(5), api_key="phx-key", headers={"x-other": "1"}) as keyed:
        assert keyed.headers["authorization"] == "Bearer phx-key"
        assert keyed.headers["x-other"] == "1"
    with client(Deadline(5)) as plain:
        assert "authorization" not in plain.headers
