"""From annotated traces in Phoenix to new golden cases (``evals export-goldens``).

"Once we've annotated traces, we can filter by annotation values, export to datasets": this
reads a project's agent runs, keeps those carrying a matching annotation (a thumbs-down, an
``irrelevant`` retrieval, a ``tool_result`` error), and turns each into a golden case. What
the bot did becomes the case's expectations, marked ``review:`` because only a human can say
whether that was right; what a human said (their thumbs, their relevance label) is kept as
``human_label``. A turn of a session becomes a conversation case with the turns before it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from openinference.semconv.trace import SpanAttributes

from evals_core.spans import SpanView
from pytest_supportbot_evals.config.vocabulary import default_vocabulary
from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.run.goldens import MAX_TURNS, GoldenCase

AGENT_SPAN = "support-agent"
ANNOTATION_CHUNK = 100
_RELATIVE = re.compile(r"^(\d+)([mhd])$")


class ExportError(ValueError):
    """Bad filter or time window, or a Phoenix that has nothing to export; says what to do."""


@dataclass(frozen=True)
class AnnotationFilter:
    """``NAME=LABEL``: keep runs with an annotation ``NAME`` labelled ``LABEL`` on any span."""

    name: str
    label: str

    @classmethod
    def parse(cls, text: str) -> AnnotationFilter:
        name, sep, label = text.partition("=")
        if not sep or not name.strip() or not label.strip():
            raise ExportError(
                f"--where {text!r}: write NAME=LABEL, e.g. user_feedback=thumbs-down, "
                "retrieval_relevance=irrelevant or tool_result=error."
            )
        return cls(name.strip(), label.strip())

    def __str__(self) -> str:
        return f"{self.name}={self.label}"


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC if no zone) or a span back from now: ``30m``, ``24h``, ``7d``."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(
            f"time {text!r}: give an ISO time (2026-11-20T09:00) or a span back from now "
            "(30m, 24h, 7d)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class AgentRun:
    """One ``support-agent`` trace as read back from Phoenix, with its annotations."""

    trace_id: str
    span_id: str
    start_time: str
    query: str
    category: str | None
    session_id: str | None = None
    order_lookup: str | None = None
    #: (name, label, annotator kind) of every annotation on any span of the trace.
    annotations: list[tuple[str, str, str]] = field(default_factory=list)

    def matches(self, filters: Sequence[AnnotationFilter]) -> list[AnnotationFilter]:
        return [f for f in filters if any(a[:2] == (f.name, f.label) for a in self.annotations)]

    def label(self, name: str, human: bool) -> str | None:
        """The newest label of annotation ``name`` (by humans only, or by anyone but humans)."""
        labels = [a[1] for a in self.annotations if a[0] == name and (a[2] == "HUMAN") == human]
        return labels[-1] if labels else None


def read_runs(
    client: Any,
    project: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10_000,
) -> tuple[list[AgentRun], int]:
    """Every agent run of ``project`` in the window, oldest first, with its annotations; and
    how many spans were read (at ``limit``, older runs were left out)."""
    raw = client.spans.get_spans(
        project_identifier=project, start_time=since, end_time=until, limit=limit
    )
    views = [(span, SpanView.from_phoenix(span)) for span in raw]
    by_trace: dict[str, list[SpanView]] = defaultdict(list)
    for _, view in views:
        by_trace[view.trace_id].append(view)
    runs: dict[str, AgentRun] = {}
    for span, view in views:
        if view.name != AGENT_SPAN or view.kind != "AGENT":
            continue
        tool = next((s for s in by_trace[view.trace_id] if s.kind == "TOOL"), None)
        category = view.get("classification.category")
        runs[view.trace_id] = AgentRun(
            trace_id=view.trace_id,
            span_id=view.span_id,
            start_time=str(span.get("start_time", "")),
            # A key pasted into a query is never kept: not in the golden, not in its id.
            query=secrets.redact(str(view.get(SpanAttributes.INPUT_VALUE, ""))),
            category=category,
            session_id=view.get(SpanAttributes.SESSION_ID),
            order_lookup=_lookup(tool, category),
        )
    span_trace = {v.span_id: v.trace_id for _, v in views if v.trace_id in runs}
    ids = list(span_trace)
    for start in range(0, len(ids), ANNOTATION_CHUNK):
        for note in client.spans.get_span_annotations(
            span_ids=ids[start : start + ANNOTATION_CHUNK], project_identifier=project
        ):
            result = note.get("result") or {}
            if result.get("label") is not None:
                runs[span_trace[note["span_id"]]].annotations.append(
                    (note["name"], label_of(note["name"], str(result["label"])), note_kind(note))
                )
    return sorted(runs.values(), key=lambda r: r.start_time), len(raw)


def label_of(name: str, label: str) -> str:
    """A label as the goldens know it: Phoenix's default ``user_feedback`` labels
    (``positive``/``negative``, from the UI before our config) read as thumbs."""
    from phoenix_delivery.annotation_configs import FEEDBACK_ALIASES

    return FEEDBACK_ALIASES.get(label, label) if name == "user_feedback" else label


def note_kind(note: dict[str, Any]) -> str:
    return str(note.get("annotator_kind"))


def _lookup(tool: SpanView | None, category: str | None) -> str | None:
    if tool is not None:
        return "not_found" if tool.status_code == "ERROR" else "found"
    return "no_order_id" if category == "order_status" else None


def new_cases(
    runs: Sequence[AgentRun],
    filters: Sequence[AnnotationFilter],
    existing: Iterable[GoldenCase],
    *,
    project: str,
    trace_url: str = "",
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Golden cases (as YAML-ready dicts) for the matching runs; and how many were skipped.

    A run is skipped when a golden with the same query (or conversation) or the same source
    trace exists already, so exporting twice adds nothing the second time.
    """
    existing = list(existing)
    seen_keys = {_key(t.query for t in g.turns) for g in existing}
    seen_traces = {g.origin.get("trace_id") for g in existing} - {None}
    used_ids = {g.id for g in existing}
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    cases, skipped = [], 0
    for run in runs:
        matched = run.matches(filters)
        if not matched:
            continue
        turns = _conversation(run, runs)
        key = _key(t.query for t in turns)
        if key in seen_keys or run.trace_id in seen_traces:
            skipped += 1
            continue
        seen_keys.add(key)
        seen_traces.add(run.trace_id)
        case_id = _case_id(run, used_ids)
        used_ids.add(case_id)
        origin = {
            "trace_id": run.trace_id,
            "span_id": run.span_id,
            "project": project,
            "filters": ", ".join(map(str, matched)),
            "exported_at": stamp,
        }
        if trace_url:
            origin["url"] = trace_url.format(trace_id=run.trace_id)
        if run.session_id:
            origin["session_id"] = secrets.redact(run.session_id)
        body = [_turn(t) for t in turns]
        review = sorted({k for t in body for k in ("label", *t.get("expect", {}))})
        case: dict[str, Any] = {"id": case_id}
        case.update(body[0] if len(body) == 1 else {"turns": body})
        case.update(review=review, tags=["exported", *map(str, matched)], origin=origin)
        cases.append(case)
    return cases, skipped


def _key(queries: Iterable[str]) -> tuple[str, ...]:
    return tuple(" ".join(q.casefold().split()) for q in queries)


def _conversation(run: AgentRun, runs: Sequence[AgentRun]) -> list[AgentRun]:
    """The run, preceded by the earlier turns of its session (at most ``MAX_TURNS`` in all)."""
    if not run.session_id:
        return [run]
    turns = [r for r in runs if r.session_id == run.session_id and r.start_time <= run.start_time]
    return turns[-MAX_TURNS:]


def _case_id(run: AgentRun, used: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", run.query.casefold()).strip("-")[:40].strip("-")
    if secrets.scan_text(slug, "id"):  # a key split by spaces, re-joined by the hyphens
        slug = "redacted"
    base = case_id = f"exported-{slug or 'query'}-{run.trace_id[:8]}"
    n = 2
    while case_id in used:
        case_id, n = f"{base}-{n}", n + 1
    return case_id


def _turn(run: AgentRun) -> dict[str, Any]:
    """What the bot did as expectations; what humans said as labels."""
    vocabulary = default_vocabulary()
    expectations = vocabulary.expectations
    turn: dict[str, Any] = {
        "query": run.query,
        "label": run.category if run.category in (vocabulary.labels or ()) else "faq",
    }
    expect: dict[str, str] = {}
    if run.order_lookup in expectations["order_lookup"]:
        expect["order_lookup"] = run.order_lookup
    human: dict[str, str] = {}
    for name in ("tool_result", "retrieval_relevance"):
        said = run.label(name, human=True) or run.label(name, human=False)
        if said in expectations[name]:
            expect[name] = said
    for name, allowed in vocabulary.human_labels.items():
        said = run.label(name, human=True)
        if said in allowed:
            human[name] = said
    if expect:
        turn["expect"] = expect
    if human:
        turn["human_label"] = human
    return turn
