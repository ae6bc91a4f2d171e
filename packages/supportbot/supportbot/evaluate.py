"""``supportbot evaluate``: judge a Phoenix project's TOOL and RETRIEVER spans, as the tutorial's
evaluation step does, and log the verdicts back as span and document annotations.

A span an eval run already judged keeps what that run knew: its annotation's metadata (golden
id, git commit, suite, ...) is kept and only what this judgement changes is replaced (source,
model, prompt hash), and the judge's trust is kept when the same judge (prompt and model) was
calibrated against the goldens' truth; otherwise it is ``uncalibrated``. The ``model`` recorded
is the one the reply says answered, not the configured name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evals_core.judges import Judge, Verdict, tool_result, verdicts_of
from evals_core.settings import Settings
from evals_core.spans import SpanView
from phoenix_delivery.phoenix_payloads import (
    TRUST_KEYS,
    UNCALIBRATED,
    document_annotation,
    verdict_annotation,
    with_trust,
)
from phoenix_delivery.phoenix_sink import PhoenixSink, reading_project

SOURCE = "supportbot-evaluate"
#: Spans read back per GraphQL request.
BATCH = 50
_FIELDS = (
    "spanAnnotations { name identifier metadata } "
    "documentEvaluations { name documentPosition metadata }"
)
#: Where an annotation is: (span id, name, document position or None).
Place = tuple[str, str, int | None]


def evaluate_project(
    sink: PhoenixSink, settings: Settings, limit: int, judge_method: str
) -> tuple[int, list[Any]]:
    """Judge the project's spans and queue the verdicts in the sink; (spans read, verdicts)."""
    from evals_core.judges import RetrievalRelevanceJudge

    sink.flush()  # spans still in the spool must be in Phoenix before we read them
    sink.deadline.restart(sink.budget)  # reading the spans has a budget of its own
    sender = sink.sender()  # one HTTP client, bounded by the command's budget
    http = sender.http
    with reading_project(sink.public_endpoint, settings.phoenix_project):
        raw = sender.phoenix().spans.get_spans(
            project_identifier=settings.phoenix_project,
            span_kind=["TOOL", "RETRIEVER"],
            limit=limit,
        )
        spans = [SpanView.from_phoenix(s) for s in raw]
        # what an eval run already said about these spans (golden id, commit, trust) is kept
        previous = existing_metadata(http, [s.span_id for s in spans])
    relevance = RetrievalRelevanceJudge(settings, judge_method)
    verdicts = judge_spans(spans, relevance)
    span_notes, document_notes = annotations(
        verdicts, {relevance.name: relevance.prompt_hash}, previous
    )
    sink.add_annotations(span_notes)
    sink.add_document_annotations(document_notes)
    return len(spans), verdicts


def existing_metadata(http: Any, span_ids: Iterable[str]) -> dict[Place, dict[str, Any]]:
    """The metadata of the annotations already on these spans (span and document annotations),
    read through Phoenix's GraphQL API; ``http`` is an ``httpx.Client`` on Phoenix's base URL."""
    ids = sorted(set(span_ids))
    found: dict[Place, dict[str, Any]] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        fields = " ".join(
            f's{n}: getSpanByOtelId(spanId: "{span_id}") {{ {_FIELDS} }}'
            for n, span_id in enumerate(batch)
        )
        response = http.post("/graphql", json={"query": f"query {{ {fields} }}"})
        response.raise_for_status()
        data = response.json()
        if data.get("errors"):
            raise ValueError(f"Phoenix's GraphQL API refused the read: {data['errors'][0]}")
        for n, span_id in enumerate(batch):
            span = data["data"][f"s{n}"] or {}
            for a in span.get("spanAnnotations") or []:
                found[(span_id, a["name"], None)] = dict(a.get("metadata") or {})
            for d in span.get("documentEvaluations") or []:
                found[(span_id, d["name"], d["documentPosition"])] = dict(d.get("metadata") or {})
    return found


def merged(
    previous: Mapping[str, Any] | None, ours: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(metadata, trust) of a re-judgement: the previous annotation's metadata with ours over it;
    the previous trust when it was about the same judge (prompt hash and model), else
    ``uncalibrated`` for an LLM judge."""
    previous = dict(previous or {})
    same = all(previous.get(k) == ours.get(k) for k in ("prompt_hash", "model"))
    trust = {k: previous[k] for k in TRUST_KEYS if k in previous} if same else {}
    keep = {k: v for k, v in previous.items() if k not in TRUST_KEYS}
    return {**keep, **ours}, (trust or None)


def annotations(
    verdicts: Sequence[Any], prompt_hashes: Mapping[str, str], previous: Mapping[Place, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(span annotations, document annotations) of ``verdicts``."""
    spans, documents = [], []
    for v in verdicts:
        ours = {
            "evaluator": v.judge,
            "source": SOURCE,
            "prompt_hash": prompt_hashes.get(v.judge),
            "model": v.model,
        }
        metadata, trust = merged(previous.get((v.span_id, v.judge, v.document_position)), ours)
        if trust is None and v.annotator_kind == "LLM":
            trust = {"trust": UNCALIBRATED, "calibration": "not calibrated against a truth"}
        if v.document_position is None:
            spans.append(with_trust(verdict_annotation(v, metadata), trust))
        else:
            documents.append(with_trust(document_annotation(v, metadata), trust))
    return spans, documents


def judges_for(span: SpanView, relevance: Judge | None) -> list[Judge]:
    """Which judges apply to a span: tool_result to the order tool, relevance to retrievers."""
    if span.kind == "TOOL" and span.name == "lookupOrderStatus":
        return [tool_result]
    if span.kind == "RETRIEVER" and relevance is not None:
        return [relevance]
    return []


def judge_spans(
    spans: Iterable[SpanView], relevance: Judge | None, seed: int | None = None
) -> list[Verdict]:
    """Apply every applicable judge to every span, in span order (a judge may give several
    verdicts: the relevance judge one per document after the span's)."""
    verdicts: list[Verdict] = []
    for span in spans:
        for judge in judges_for(span, relevance):
            verdicts += verdicts_of(judge(span, seed))
    return verdicts
