"""Phoenix shows what the gate knows, read back from a real ``phoenix serve``: an untrusted
judge's annotations say they are advisory (and feed no ranking metric), ``supportbot evaluate``
keeps an eval run's metadata and records the model that really answered, and the ``tokens``
annotation config has bounds Phoenix's UI can show."""

from __future__ import annotations

import httpx
from integration_helpers import (
    evaluate_replayed,
    graphql,
    recorded_settings,
    run_suite,
    served_model,
)

from phoenix_delivery import annotation_configs

PREMIUM = "tutorial-upgrade-premium"
RELEVANCE = "retrieval_relevance"
SPAN_QUERY = """
query ($spanId: String!) {
  getSpanByOtelId(spanId: $spanId) {
    name
    spanAnnotations { name label score explanation metadata }
    documentEvaluations { name label score explanation metadata documentPosition }
    documentRetrievalMetrics(evaluationName: "retrieval_relevance") { ndcg precision hit }
  }
}
"""
CONFIGS_QUERY = """
query {
  annotationConfigs(first: 100) {
    edges { node {
      __typename
      ... on ContinuousAnnotationConfig { name lowerBound upperBound optimizationDirection }
      ... on CategoricalAnnotationConfig { name }
    } }
  }
}
"""


def read_span(phoenix_url: str, span_id: str) -> dict:
    return graphql(phoenix_url, SPAN_QUERY, spanId=span_id)["getSpanByOtelId"]


def relevance_notes(span: dict) -> list[dict]:
    """The retrieval's relevance annotations: the span's, then its documents' in order."""
    (own,) = [a for a in span["spanAnnotations"] if a["name"] == RELEVANCE]
    documents = sorted(
        (d for d in span["documentEvaluations"] if d["name"] == RELEVANCE),
        key=lambda d: d["documentPosition"],
    )
    return [own, *documents]


def test_an_advisory_judge_says_so_in_phoenix_and_evaluate_keeps_what_the_run_knew(
    phoenix, project, tmp_path, monkeypatch
):
    # The tutorial's premium-upgrade golden: nothing answers it (relevant_ids: []), the local
    # judge calls its documents relevant: calibrated against that truth, it is not trusted.
    done, report = run_suite(
        tmp_path, phoenix.url, "-k", PREMIUM, f"--supportbot-experiment={project}-goldens"
    )
    assert "all delivered" in done.stdout, done.stdout
    calibration = report["calibration"][RELEVANCE]
    assert not calibration["trusted"] and RELEVANCE in report["advisory"], calibration
    (case,) = report["cases"]
    judged = [v for v in case["verdicts"] if v["judge"] == RELEVANCE]
    assert any(v["label"] == "relevant" for v in judged), judged  # what Phoenix must not sell
    retriever = judged[0]["span_id"]

    span = read_span(phoenix.url, retriever)
    assert span["name"] == "faq-retrieval"
    notes = relevance_notes(span)
    assert len(notes) == len(judged) == 3
    for note, verdict in zip(notes, judged, strict=True):
        meta = note["metadata"]
        assert note["label"] == verdict["label"]  # the judge's own label, in the config's terms
        assert note["score"] is None and meta["judge_score"] == verdict["score"]
        assert note["explanation"].startswith("ADVISORY: this judge is not trusted (")
        assert meta["trust"] == "advisory"
        assert meta["calibration_kappa"] == calibration["kappa"]
        assert meta["calibration_accuracy"] == calibration["accuracy"]
        assert meta["calibration_pairs"] == calibration["pairs"]
        assert meta["golden_id"] == PREMIUM and meta["git_commit"] == report["meta"]["git_commit"]
    # no score, no ranking metric: Phoenix shows no "perfect ranking" from an untrusted judge
    metrics = span["documentRetrievalMetrics"]
    assert all(m["ndcg"] is None and m["hit"] is None for m in metrics), metrics

    # The metrics computed from that judge's verdicts (judged_*), in the run's experiment.
    from phoenix.client import Client

    client = Client(base_url=phoenix.url)
    (experiment,) = client.experiments.list(
        dataset_id=client.datasets.get_dataset(dataset=f"{project}-goldens").id
    )
    runs = client.experiments.get_experiment(experiment_id=experiment["id"])["evaluation_runs"]
    judged_mrr = next(e for e in runs if e.name == "judged_mrr")
    assert judged_mrr.metadata["trust"] == "advisory"
    assert judged_mrr.metadata["derived_from"] == RELEVANCE
    assert judged_mrr.result["explanation"].startswith("ADVISORY")
    assert judged_mrr.result.get("score") is None
    truth_mrr = next(e for e in runs if e.name == "mrr")  # the ground truth's: a real score
    assert truth_mrr.result["score"] == 0.0 and "trust" not in (truth_mrr.metadata or {})

    # `supportbot evaluate` judges the same spans again (the same recorded judge replies).
    assert not evaluate_replayed(monkeypatch, phoenix, tmp_path, [PREMIUM]).misses

    served = served_model(PREMIUM, f"judge:{RELEVANCE}")
    assert served != recorded_settings()["SUPPORTBOT_MODEL"]  # the name asked for is not it
    for note in relevance_notes(read_span(phoenix.url, retriever)):
        meta = note["metadata"]
        assert meta["source"] == "supportbot-evaluate"
        assert meta["model"] == served  # the model that answered
        assert meta["golden_id"] == PREMIUM  # kept from the eval run...
        assert meta["git_commit"] == report["meta"]["git_commit"]
        assert meta["suite"] == case["suite"]
        assert meta["trust"] == "advisory"  # ...with the same judge's calibration
        assert meta["calibration_kappa"] == calibration["kappa"]
        assert note["score"] is None and note["explanation"].startswith("ADVISORY")


def test_the_tokens_config_has_bounds_phoenix_ui_shows(phoenix):
    http = httpx.Client(base_url=phoenix.url, timeout=30)
    # as an older version left it: no upper bound (the UI said "from 0 to null")
    old = {k: v for k, v in _ours("tokens").items() if k != "upper_bound"}
    found = http.get("/v1/annotation_configs/tokens")
    if found.status_code == 404:
        http.post("/v1/annotation_configs", json=old).raise_for_status()
    else:
        http.put(f"/v1/annotation_configs/{found.json()['data']['id']}", json=old)
    project = "trust-configs"
    http.post("/v1/projects", json={"name": project})

    changed = annotation_configs.ensure(http, project)
    assert "updated tokens" in changed, changed
    assert annotation_configs.ensure(http, project) == []  # idempotent: nothing else differs

    nodes = [e["node"] for e in graphql(phoenix.url, CONFIGS_QUERY)["annotationConfigs"]["edges"]]
    (tokens,) = [n for n in nodes if n.get("name") == "tokens"]
    assert tokens == {
        "__typename": "ContinuousAnnotationConfig",
        "name": "tokens",
        "lowerBound": 0.0,
        "upperBound": 1_000_000.0,
        "optimizationDirection": "MINIMIZE",
    }


def _ours(name: str) -> dict:
    return next(c for c in annotation_configs.configs() if c["name"] == name)
