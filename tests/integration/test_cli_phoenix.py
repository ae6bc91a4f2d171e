"""SupportBot's CLI against a real Phoenix: traces, user feedback through a Phoenix outage,
and ``supportbot evaluate`` annotating the child spans (read back through the REST API)."""

from __future__ import annotations

import io
import re
import time

import httpx
from integration_helpers import PHOENIX_HOSTS, annotations_by_name, merged_cassette
from supportbot.cli import main

from pytest_supportbot_evals.recording.cassettes import use_cassette

NOT_FOUND = "What's the status of order ORD-99999?"
REFUND = "How can I get a refund?"


def wait_for_spans(client, project, names, timeout=30.0):
    """Phoenix ingests spans asynchronously; poll until every named span is there."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            spans = client.spans.get_spans(project_identifier=project, limit=200)
        except httpx.HTTPStatusError as exc:  # 404 until the project's first span is stored
            if exc.response.status_code != 404:
                raise
            spans = []
        if names <= {s["name"] for s in spans} or time.monotonic() > deadline:
            return spans
        time.sleep(0.5)


def test_ask_then_evaluate_annotates_tool_and_retriever_spans(
    phoenix_url, phoenix_client, project, replay_env, tmp_path, capsys
):
    cassette = merged_cassette(tmp_path, ["tutorial-order-not-found", "tutorial-refund"])
    with use_cassette(cassette, "none", ignore_hosts=PHOENIX_HOSTS) as use:
        assert main(["--phoenix", phoenix_url, "ask", NOT_FOUND]) == 0
        assert main(["--phoenix", phoenix_url, "ask", REFUND]) == 0
        out = capsys.readouterr().out
        assert re.search(r"span id: [0-9a-f]{16}", out)
        spans = wait_for_spans(phoenix_client, project, {"lookupOrderStatus", "faq-retrieval"})
        assert main(["--phoenix", phoenix_url, "evaluate"]) == 0
    assert not use.misses
    out = capsys.readouterr().out
    assert "tool_result" in out and "retrieval_relevance" in out

    tool = next(s for s in spans if s["name"] == "lookupOrderStatus")
    retriever = next(s for s in spans if s["name"] == "faq-retrieval")
    assert tool["status_code"] == "ERROR"
    assert retriever["span_kind"] == "RETRIEVER"
    ids = [tool["context"]["span_id"], retriever["context"]["span_id"]]
    found = annotations_by_name(phoenix_client, project, ids)
    (tool_verdict,) = found["tool_result"]
    assert tool_verdict["span_id"] == ids[0]
    assert tool_verdict["result"]["label"] == "error"
    assert tool_verdict["annotator_kind"] == "CODE"
    (relevance,) = found["retrieval_relevance"]
    assert relevance["span_id"] == ids[1]
    assert relevance["annotator_kind"] == "LLM"
    assert relevance["result"].get("label") in ("relevant", "irrelevant") or "judge failed" in (
        relevance["result"].get("explanation") or ""
    )

    # A rerun updates instead of duplicating (same identifier).
    with use_cassette(merged_cassette(tmp_path, ["tutorial-refund"]), "none", PHOENIX_HOSTS):
        assert main(["--phoenix", phoenix_url, "evaluate"]) == 0
    again = annotations_by_name(phoenix_client, project, ids)
    assert len(again["tool_result"]) == 1 and len(again["retrieval_relevance"]) == 1


def test_chat_feedback_is_kept_while_phoenix_is_down_and_delivered_later(
    phoenix_url, phoenix_client, project, replay_env, tmp_path, capsys, monkeypatch
):
    spool = tmp_path / "spool.jsonl"
    cassette = merged_cassette(tmp_path, ["tutorial-order-not-found", "tutorial-refund"])
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{NOT_FOUND}\ny\n{REFUND}\nn\n"))
    down = "http://localhost:9"  # nothing listens on the discard port
    with use_cassette(cassette, "none", ignore_hosts=PHOENIX_HOSTS) as use:
        assert main(["--phoenix", down, "--spool", str(spool), "chat"]) == 0
    assert not use.misses
    out = capsys.readouterr().out
    assert "helpful? (y/n/s)" in out
    assert "kept in" in out and str(spool) in out
    span_ids = re.findall(r"span ([0-9a-f]{16})\]", out)
    assert len(span_ids) == 2

    # Queued for the dead URL, they wait for it (never sent elsewhere unasked) ...
    assert main(["--phoenix", phoenix_url, "--spool", str(spool), "deliver"]) == 1
    out = capsys.readouterr().out
    assert f"Records queued for Phoenix at {down} wait for it" in out and "--reroute" in out
    # ... until the user sends them to the right one.
    assert main(["--phoenix", phoenix_url, "--spool", str(spool), "deliver", "--reroute"]) == 0
    assert not spool.exists()
    wait_for_spans(phoenix_client, project, {"support-agent"})
    found = annotations_by_name(phoenix_client, project, span_ids)["user_feedback"]
    by_span = {a["span_id"]: a for a in found}
    assert len(found) == 2 and set(by_span) == set(span_ids)
    assert by_span[span_ids[0]]["result"] == {
        "label": "thumbs-up",
        "score": 1.0,
        "explanation": None,
    } or (
        by_span[span_ids[0]]["result"]["label"] == "thumbs-up"
        and by_span[span_ids[0]]["result"]["score"] == 1.0
    )
    assert by_span[span_ids[1]]["result"]["label"] == "thumbs-down"
    assert by_span[span_ids[1]]["result"]["score"] == 0.0
    assert all(a["annotator_kind"] == "HUMAN" for a in found)
    assert by_span[span_ids[0]]["metadata"]["source"] == "supportbot-cli"
