"""The plugin end to end against a real Phoenix: every verdict lands on the span it judged,
and verdicts survive a Phoenix that is down (spool) and arrive exactly once afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from integration_helpers import ROOT, annotations_by_name, run_suite


def expected_annotations(report):
    """(span_id, annotation name, label) for every verdict and golden check in the report."""
    expected = []
    for case in report["cases"]:
        for verdict in case["verdicts"]:
            if verdict["document_position"] is None:  # a document's is a document annotation
                expected.append((verdict["span_id"], verdict["judge"], verdict["label"]))
        expected.append((case["span_id"], "evals_golden", "pass" if case["passed"] else "fail"))
    return expected


def assert_each_annotation_once(client, project, expected):
    span_ids = sorted({span_id for span_id, _, _ in expected})
    found = annotations_by_name(client, project, span_ids)
    for span_id, name, label in expected:
        matches = [a for a in found.get(name, []) if a["span_id"] == span_id]
        assert len(matches) == 1, (span_id, name, matches)
        assert matches[0]["result"].get("label") == label


def test_every_verdict_sits_on_the_span_it_judged(phoenix, phoenix_client, project, tmp_path):
    done, report = run_suite(tmp_path, phoenix.url)
    assert "all delivered" in done.stdout, done.stdout
    expected = expected_annotations(report)
    assert {name for _, name, _ in expected} >= {"tool_result", "evals_golden"}
    assert_each_annotation_once(phoenix_client, project, expected)

    spans = {
        s["context"]["span_id"]: s
        for s in phoenix_client.spans.get_spans(project_identifier=project, limit=500)
    }
    judged_span_names = {
        "tool_result": "lookupOrderStatus",
        "retrieval_relevance": "faq-retrieval",
        "retrieval_overlap": "faq-retrieval",  # the word-overlap judge of the same documents
        "order_lookup": "support-agent",  # SupportBot's code evaluator judges the turn
        "answer_grounded": "support-agent",  # the answer check, on the turn's span
    }
    for case in report["cases"]:
        assert spans[case["span_id"]]["name"] == "support-agent"
        for verdict in case["verdicts"]:
            span = spans[verdict["span_id"]]
            assert span["name"] == judged_span_names[verdict["judge"]]
            assert span["context"]["trace_id"] == case["trace_id"]
    # The UI's Annotate form offers our labels: configs exist and are assigned to the project.
    import httpx

    from phoenix_delivery.annotation_configs import configs

    assigned = httpx.get(f"{phoenix.url}/v1/projects/{project}/annotation_configs").json()["data"]
    labels = {c["name"]: [v["label"] for v in c.get("values") or []] for c in assigned}
    kinds = {c["name"]: c["type"] for c in assigned}
    for config in configs():
        assert kinds.get(config["name"]) == config["type"], kinds
        assert labels[config["name"]] == [v["label"] for v in config.get("values", [])], labels
    # ... and for the evaluators the registry adds (SupportBot's order_lookup, like a team's own)
    assert labels["order_lookup"] == [
        "found",
        "not_found",
        "no_order_id",
        "not_attempted",
        "judge_error",
    ]
    assert labels["answer_grounded"][:3] == ["grounded", "contradicts", "unsupported"]
    annotation = annotations_by_name(phoenix_client, project, [report["cases"][0]["span_id"]])
    metadata = annotation["evals_golden"][0]["metadata"]
    assert metadata["golden_id"] == report["cases"][0]["id"]
    assert set(metadata) >= {"git_commit", "model", "prompt_hashes"}


DOCUMENTS_QUERY = """
query ($spanId: String!) {
  getSpanByOtelId(spanId: $spanId) {
    name
    documentEvaluations { name label score documentPosition }
  }
}
"""


def test_the_premium_upgrade_retrieval_its_documents_and_the_tokens_in_phoenix(
    phoenix, phoenix_client, project, tmp_path
):
    """The tutorial's teaching example: "How do I upgrade to premium?" retrieves two (wrong)
    entries; each is judged and annotated at its position; the span has a verdict with label and
    score; the ground truth (nothing answers it) makes its ranking metrics a miss; the agent span
    carries the token figures."""
    import httpx

    done, report = run_suite(tmp_path, phoenix.url, "-k", "tutorial-upgrade-premium")
    assert "all delivered" in done.stdout, done.stdout
    (case,) = report["cases"]
    relevance = [v for v in case["verdicts"] if v["judge"] == "retrieval_relevance"]
    span_verdict = next(v for v in relevance if v["document_position"] is None)
    assert span_verdict["label"] in ("relevant", "irrelevant") and span_verdict["score"] in (0, 1)
    documents = [v for v in relevance if v["document_position"] is not None]
    assert [v["document_position"] for v in documents] == [0, 1]
    checks = {c["evaluator"]: c for c in case["checks"]}
    assert checks["precision_at_k"]["score"] == checks["mrr"]["score"] == 0.0  # a miss
    answer = httpx.post(
        f"{phoenix.url}/graphql",
        json={"query": DOCUMENTS_QUERY, "variables": {"spanId": span_verdict["span_id"]}},
    ).json()["data"]["getSpanByOtelId"]
    assert answer["name"] == "faq-retrieval"
    stored = sorted(
        (d["documentPosition"], d["name"], d["label"]) for d in answer["documentEvaluations"]
    )
    # both judges of documents annotate each position: the LLM judge and the word-overlap judge
    judged = [
        v
        for v in case["verdicts"]
        if v["judge"] in ("retrieval_relevance", "retrieval_overlap")
        and v["document_position"] is not None
    ]
    assert {v["judge"] for v in judged} == {"retrieval_relevance", "retrieval_overlap"}
    assert stored == sorted((v["document_position"], v["judge"], v["label"]) for v in judged)
    notes = annotations_by_name(phoenix_client, project, [case["span_id"]])
    (tokens,) = notes["tokens"]
    agent = sum(
        row["prompt"] + row["completion"]
        for step, row in case["tokens"].items()
        if not step.startswith("judge:")
    )
    assert tokens["result"]["score"] == agent > 0
    assert "judges" in tokens["result"]["explanation"]


def test_the_plugin_and_evaluate_leave_one_verdict_per_judge_per_span(
    phoenix, phoenix_client, project, tmp_path, monkeypatch
):
    from integration_helpers import evaluate_replayed, served_model

    done, report = run_suite(tmp_path, phoenix.url, "-k", "tutorial-refund")
    judged = [(v["span_id"], v["judge"]) for c in report["cases"] for v in c["verdicts"]]
    assert "retrieval_relevance" in {j for _, j in judged}, done.stdout
    evaluate_replayed(monkeypatch, phoenix, tmp_path, ["tutorial-refund"])

    found = annotations_by_name(phoenix_client, project, sorted({s for s, _ in judged}))
    for span_id, judge in judged:
        mine = [a for a in found[judge] if a["span_id"] == span_id]
        assert len(mine) == 1, (judge, mine)  # judged twice, one verdict
        assert mine[0]["result"].get("label")  # never an empty annotation
        if judge == "retrieval_relevance":
            # the model the reply says answered, not the configured name
            served = served_model("tutorial-refund", "judge:retrieval_relevance")
            assert mine[0]["metadata"]["model"] == served


def test_phoenix_down_then_back_delivers_every_verdict_exactly_once(
    phoenix, phoenix_client, project, tmp_path
):
    phoenix.stop()
    try:
        done, report = run_suite(tmp_path, phoenix.url)
    finally:
        phoenix.start()
    assert report["gate"] == "pass" and done.returncode == 0, done.stdout
    assert (
        "not reachable" in done.stdout and "kept in" in done.stdout and "spool.jsonl" in done.stdout
    )
    assert (tmp_path / "spool.jsonl").exists()

    deliver = [
        sys.executable,
        "-m",
        "supportbot.cli",
        "--phoenix",
        phoenix.url,
        "--spool",
        str(tmp_path / "spool.jsonl"),
        "deliver",
    ]
    first = subprocess.run(deliver, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert not (tmp_path / "spool.jsonl").exists()
    second = subprocess.run(deliver, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and "all delivered and stored (0 batches)" in second.stdout
    assert_each_annotation_once(phoenix_client, project, expected_annotations(report))


def test_phoenix_stopped_mid_run_and_restarted_gets_every_verdict_once(
    phoenix, phoenix_client, project, tmp_path
):
    """Phoenix is up when the run starts, goes down while it runs, and comes back later."""
    report = tmp_path / "report.json"
    spool = tmp_path / "spool.jsonl"
    command = [
        sys.executable, "-m", "pytest", "tests/evals", "-q", "-p", "no:cacheprovider",
        f"--supportbot-phoenix={phoenix.url}", f"--supportbot-report={report}",
        "-o", f"supportbot_spool={spool}", "-o", "supportbot_thresholds=",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = ""
    while not any(mark in seen for mark in ".xF"):  # the first golden has run: Phoenix was up
        char = run.stdout.read(1)
        assert char, seen
        seen += char
    phoenix.stop()  # ...and goes down while the remaining goldens run
    try:
        rest, _ = run.communicate(timeout=600)
    finally:
        phoenix.start()
    output = seen + rest
    assert run.returncode == 0, output
    assert "kept in" in output and spool.exists()
    deliver = [sys.executable, "-m", "supportbot.cli", "--phoenix", phoenix.url,
               "--spool", str(spool), "deliver"]  # fmt: skip
    done = subprocess.run(deliver, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_each_annotation_once(
        phoenix_client, project, expected_annotations(json.loads(report.read_text()))
    )
