"""Golden sets as Phoenix datasets, and eval runs as Phoenix experiments against them.

One dataset example per golden query (a conversation gives one per turn, its earlier queries as
``history``), keyed by ``metadata.golden_id`` — the same id as the run's results — so pushing
again only adds what is new, and a run's results map onto examples without guessing. A run is
logged as an experiment: one experiment run per result (output: the answer, category and
checks) and one evaluation per check, so Phoenix's compare view shows run against run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from phoenix_delivery.phoenix_payloads import with_trust
from pytest_supportbot_evals.run.goldens import GoldenCase
from pytest_supportbot_evals.run.results import CaseResult, Check
from pytest_supportbot_evals.run.runner import result_keys


@dataclass(frozen=True)
class Example:
    golden_id: str
    query: str
    history: tuple[str, ...]
    expect: Mapping[str, str]
    tags: tuple[str, ...] = ()

    def as_row(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(input, output, metadata) as Phoenix stores an example."""
        return (
            {"query": self.query, "history": list(self.history)},
            {"expect": dict(self.expect)},
            {"golden_id": self.golden_id, "tags": list(self.tags)},
        )


def examples_from_goldens(cases: Iterable[GoldenCase]) -> list[Example]:
    examples = []
    for case in cases:
        queries = [t.query for t in case.turns]
        for n, (key, turn) in enumerate(zip(result_keys(case), case.turns, strict=True)):
            earlier = tuple(queries[:n])
            examples.append(Example(key.case_id, turn.query, earlier, turn.expect, case.tags))
    return examples


def examples_from_results(results: Iterable[CaseResult]) -> list[Example]:
    """Examples for a run's results (first repetition; errored ones carry no expectations)."""
    firsts = [r for r in results if r.repetition == 0]
    queries: dict[str, list[tuple[int, str]]] = {}
    for r in firsts:
        queries.setdefault(r.golden_id, []).append((r.turn or 1, r.query))
    examples = []
    for r in firsts:
        earlier = tuple(q for n, q in sorted(queries[r.golden_id]) if n < (r.turn or 1))
        expect = {c.evaluator: c.expected for c in r.checks if c.evaluator != "retrieval_hit"}
        examples.append(Example(r.case_id, r.query, earlier, expect))
    return examples


def push_dataset(client: Any, name: str, examples: Sequence[Example]) -> tuple[Any, int]:
    """Create dataset ``name``, or add the examples it lacks; returns (dataset, added)."""
    import httpx

    try:
        dataset = client.datasets.get_dataset(dataset=name)
    except (ValueError, httpx.HTTPStatusError):
        dataset = None
    have = {ex["metadata"].get("golden_id") for ex in dataset.examples} if dataset else set()
    new = [e for e in examples if e.golden_id not in have]
    if dataset is not None and not new:
        return dataset, 0
    rows = [e.as_row() for e in new]
    inputs, outputs, metadata = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    if dataset is None:
        dataset = client.datasets.create_dataset(
            name=name,
            inputs=inputs,
            outputs=outputs,
            metadata=metadata,
            dataset_description="Golden cases of the evals plugin",
        )
    else:
        dataset = client.datasets.add_examples_to_dataset(
            dataset=dataset, inputs=inputs, outputs=outputs, metadata=metadata
        )
    return dataset, len(new)


def log_experiment(
    client: Any,
    http: Any,
    dataset_name: str,
    results: Sequence[CaseResult],
    *,
    experiment_name: str,
    metadata: Mapping[str, Any],
    trust: Mapping[str, dict[str, Any]] | None = None,
) -> str:
    """Log a run's results as an experiment on the dataset (pushed first); returns its URL.
    ``http`` is the ``httpx.Client`` the phoenix-client ``client`` was built on (runs and
    evaluations are posted through Phoenix's REST API). ``trust``: per judge (and metric from
    a judge's verdicts), how far it is trusted (``phoenix_annotations.judge_trust``)."""
    dataset, _ = push_dataset(client, dataset_name, examples_from_results(results))
    example_ids = {ex["metadata"].get("golden_id"): ex["id"] for ex in dataset.examples}
    repetitions = max((r.repetition for r in results), default=0) + 1
    experiment = client.experiments.create(
        dataset_id=dataset.id,
        dataset_version_id=dataset.version_id,
        experiment_name=experiment_name,
        experiment_metadata=dict(metadata),
        repetitions=repetitions,
    )
    now = datetime.now(UTC).isoformat()
    for result in results:
        run = {
            "dataset_example_id": example_ids[result.case_id],
            "output": {
                "response": result.response,
                "category": result.category,
                "passed": result.passed,
                "span_id": result.span_id,
            },
            "repetition_number": result.repetition + 1,
            "start_time": now,
            "end_time": now,
        }
        if result.trace_id:
            run["trace_id"] = result.trace_id
        if result.error:
            run["error"] = result.error[:2000]
        response = http.post(f"v1/experiments/{experiment['id']}/runs", json=run)
        response.raise_for_status()
        run_id = response.json()["data"]["id"]
        for check in result.checks:
            evaluation = check_evaluation(run_id, check, _kind(result, check.evaluator), now)
            evaluation = with_trust(evaluation, (trust or {}).get(check.evaluator))
            http.post("v1/experiment_evaluations", json=evaluation).raise_for_status()
    return client.experiments.get_experiment_url(dataset.id, experiment["id"])


def check_evaluation(run_id: str, check: Check, kind: str, now: str) -> dict[str, Any]:
    """One check as an experiment evaluation: a metric scores its value, an expectation 1 or 0."""
    return {
        "experiment_run_id": run_id,
        "name": check.evaluator,
        "annotator_kind": kind,
        "start_time": now,
        "end_time": now,
        "result": {
            "label": str(check.actual),
            "score": check.score if check.score is not None else float(check.passed),
            "explanation": f"expected {check.expected}. {check.detail}"[:1000],
        },
        "metadata": {},
    }


def _kind(result: CaseResult, evaluator: str) -> str:
    """Who judged: the annotator kind of the evaluator's verdict (LLM judges), else CODE."""
    return next((v.annotator_kind for v in result.verdicts if v.judge == evaluator), "CODE")
