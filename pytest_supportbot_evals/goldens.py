"""Golden cases: YAML files of queries with the outcome each check should give.

Validation is strict, and every error names the file, the line, the case id and the field, and
says what to write instead: a golden set that silently drops a case is a gate that silently
tests less.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Allowed values per expectation key. ``category`` is the expected classification.
EXPECTATIONS: dict[str, tuple[str, ...]] = {
    "category": ("order_status", "faq"),
    "order_lookup": ("found", "not_found", "no_order_id"),
    "tool_result": ("success", "error"),
    "retrieval_relevance": ("relevant", "irrelevant"),
}
HUMAN_LABELS: dict[str, tuple[str, ...]] = {
    "retrieval_relevance": ("relevant", "irrelevant"),
    #: A user's thumbs-up/down on the answer (``user_feedback`` in Phoenix), kept by export.
    "user_feedback": ("thumbs-up", "thumbs-down"),
}
TURN_FIELDS = {"query", "category", "expect", "human_label", "faq_id"}
CASE_FIELDS = TURN_FIELDS | {"id", "tags", "notes", "turns", "review", "origin"}
#: Where an exported case came from (``supportbot-evals export-goldens``): a link back to the trace.
ORIGIN_FIELDS = {"trace_id", "span_id", "session_id", "project", "url", "filters", "exported_at"}
MAX_TURNS = 20
#: What ``review:`` may list: the expectations, and ``retrieval_hit`` (checked from ``faq_id``).
REVIEWABLE = (*EXPECTATIONS, "retrieval_hit")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_FILE_BYTES = 5_000_000
MAX_QUERY_CHARS = 4000


class GoldenError(ValueError):
    """A golden file is not valid; the message says where and how to fix it."""


@dataclass(frozen=True)
class GoldenTurn:
    """One query of a case and what each check should give for it."""

    query: str
    expect: Mapping[str, str]
    human_label: Mapping[str, str] = field(default_factory=dict)
    faq_id: str | None = None


@dataclass(frozen=True)
class GoldenCase:
    """A golden case: one query, or (with ``follow_ups``) a whole conversation judged per turn.

    The case's own ``query``/``expect``/... are its first turn.
    """

    id: str
    query: str
    expect: Mapping[str, str]
    human_label: Mapping[str, str] = field(default_factory=dict)
    faq_id: str | None = None
    tags: tuple[str, ...] = ()
    source: str = ""
    #: Which repetition of the case this is (``--supportbot-repeat``); 0 is the first.
    repetition: int = 0
    #: The turns after the first, run in the same session (the bot remembers earlier turns).
    follow_ups: tuple[GoldenTurn, ...] = ()
    #: Expectations a human has not confirmed yet (exported cases): reported, still checked.
    review: tuple[str, ...] = ()
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def turns(self) -> tuple[GoldenTurn, ...]:
        first = GoldenTurn(self.query, self.expect, self.human_label, self.faq_id)
        return (first, *self.follow_ups)

    @property
    def is_conversation(self) -> bool:
        return bool(self.follow_ups)

    @property
    def run_id(self) -> str:
        """The test id and cassette name: the golden id, plus ``@N`` for repetition N > 0."""
        return self.id if self.repetition == 0 else f"{self.id}@{self.repetition}"

    @property
    def category(self) -> str:
        return self.expect["category"]


def load_goldens(paths: Iterable[Path]) -> list[GoldenCase]:
    """Load and validate every ``*.yaml``/``*.yml`` file under the given files or folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"}))
        elif path.is_file():
            files.append(path)
        else:
            raise GoldenError(f"{path}: no such golden file or folder; check the path setting.")
    cases: list[GoldenCase] = []
    seen: dict[str, str] = {}
    for file in files:
        for case in load_file(file):
            if case.id in seen:
                raise GoldenError(
                    f"{case.source}: case id {case.id!r} is already used at {seen[case.id]}; "
                    "ids must be unique across all golden files."
                )
            seen[case.id] = case.source
            cases.append(case)
    return cases


def goldens_hash(cases: Iterable[GoldenCase]) -> str:
    """A fingerprint of the golden set's content (ids, queries, expectations, labels)."""
    digest = hashlib.sha256()
    for case in sorted(cases, key=lambda c: c.id):
        turns = [
            (t.query, sorted(t.expect.items()), sorted(t.human_label.items())) for t in case.turns
        ]
        key = (case.id, *turns[0]) if len(turns) == 1 else (case.id, turns)  # single: as before
        digest.update(repr(key).encode())
    return digest.hexdigest()[:12]


def load_file(path: Path) -> list[GoldenCase]:
    import yaml

    if path.stat().st_size > MAX_FILE_BYTES:
        raise GoldenError(f"{path}: file is over {MAX_FILE_BYTES:,} bytes; split it into files.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GoldenError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) if document is not None else None
    except yaml.YAMLError as exc:  # syntax, and tags safe_load refuses (e.g. !!python/object)
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise GoldenError(f"{where}: invalid YAML ({problem}); fix the syntax there.") from None
    if document is None:
        raise GoldenError(f"{path}: file is empty; add a 'cases:' list or delete the file.")
    if not isinstance(data, dict) or set(data) != {"cases"} or not isinstance(data["cases"], list):
        raise GoldenError(f"{path}:1: the file must hold one key, 'cases:', with a list of cases.")
    if not data["cases"]:
        raise GoldenError(f"{path}:1: 'cases:' is empty; add cases or delete the file.")
    lines = _case_lines(document)
    return [
        _parse_case(raw, f"{path}:{lines[i] if i < len(lines) else 1}")
        for i, raw in enumerate(data["cases"])
    ]


def _case_lines(document: Any) -> list[int]:
    """1-based line of each item under ``cases:`` (for error messages)."""
    for key, value in getattr(document, "value", []):
        if getattr(key, "value", None) == "cases":
            return [item.start_mark.line + 1 for item in getattr(value, "value", [])]
    return []


def _parse_case(raw: Any, where: str) -> GoldenCase:
    if not isinstance(raw, dict):
        raise GoldenError(f"{where}: each case must be a mapping with 'id' and 'query'.")
    case_id = raw.get("id")
    label = f"{where}: case {case_id!r}" if case_id is not None else f"{where}: case"
    unknown = set(raw) - CASE_FIELDS
    if unknown:
        raise GoldenError(
            f"{label}: unknown field(s) {sorted(unknown)}; allowed: {sorted(CASE_FIELDS)}."
        )
    if not isinstance(case_id, str) or not ID_PATTERN.match(case_id):
        raise GoldenError(
            f"{label}: field 'id' must be lowercase letters, digits and dashes "
            "(at most 80), e.g. 'refund-policy'."
        )
    turns = _parse_turns(raw, label)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise GoldenError(f"{label}: field 'tags' must be a list of strings.")
    review = raw.get("review", [])
    if not isinstance(review, list) or not set(review) <= set(REVIEWABLE):
        raise GoldenError(
            f"{label}: field 'review' must list expectation names from "
            f"{sorted(REVIEWABLE)}; delete the field once a human has confirmed them."
        )
    origin = raw.get("origin", {})
    if not isinstance(origin, dict) or not set(origin) <= ORIGIN_FIELDS:
        raise GoldenError(
            f"{label}: field 'origin' must be a mapping with keys from {sorted(ORIGIN_FIELDS)}."
        )
    first = turns[0]
    return GoldenCase(
        id=case_id,
        query=first.query,
        expect=first.expect,
        human_label=first.human_label,
        faq_id=first.faq_id,
        tags=tuple(tags),
        source=where,
        follow_ups=tuple(turns[1:]),
        review=tuple(review),
        origin={str(k): str(v) for k, v in origin.items()},
    )


def _parse_turns(raw: dict[str, Any], label: str) -> list[GoldenTurn]:
    if "turns" not in raw:
        return [_parse_turn(raw, label)]
    mixed = sorted(set(raw) & TURN_FIELDS)
    if mixed:
        raise GoldenError(
            f"{label}: a conversation gives {mixed} inside each of its 'turns', not beside them."
        )
    turns = raw["turns"]
    if not isinstance(turns, list) or not turns or len(turns) > MAX_TURNS:
        raise GoldenError(
            f"{label}: field 'turns' must be a list of 1 to {MAX_TURNS} turns, each with "
            "'query' and 'category'."
        )
    parsed = []
    for n, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or set(turn) - TURN_FIELDS:
            extra = sorted(set(turn) - TURN_FIELDS) if isinstance(turn, dict) else []
            raise GoldenError(
                f"{label}: turn {n} must be a mapping with keys from {sorted(TURN_FIELDS)}"
                + (f"; unknown: {extra}." if extra else ".")
            )
        parsed.append(_parse_turn(turn, f"{label}, turn {n}"))
    return parsed


def _parse_turn(raw: dict[str, Any], label: str) -> GoldenTurn:
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        raise GoldenError(f"{label}: field 'query' must be a non-empty string.")
    if len(query) > MAX_QUERY_CHARS:
        raise GoldenError(f"{label}: field 'query' is over {MAX_QUERY_CHARS} characters.")
    expect = _mapping(raw.get("expect", {}), EXPECTATIONS, f"{label}: field 'expect'")
    if "category" in expect:
        raise GoldenError(f"{label}: give the category as the case's 'category', not in 'expect'.")
    category = raw.get("category")
    if category not in EXPECTATIONS["category"]:
        raise GoldenError(
            f"{label}: field 'category' is {category!r}; use one of {EXPECTATIONS['category']}."
        )
    human = _mapping(raw.get("human_label", {}), HUMAN_LABELS, f"{label}: field 'human_label'")
    faq_id = raw.get("faq_id")
    if faq_id is not None and not isinstance(faq_id, str):
        raise GoldenError(f"{label}: field 'faq_id' must be a string such as 'faq-002'.")
    return GoldenTurn(query, {"category": category, **expect}, human, faq_id)


def _mapping(raw: Any, allowed: Mapping[str, tuple[str, ...]], label: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise GoldenError(f"{label} must be a mapping such as 'tool_result: error'.")
    result: dict[str, str] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise GoldenError(f"{label}: unknown key {key!r}; use one of {sorted(allowed)}.")
        if value not in allowed[key]:
            raise GoldenError(f"{label}: {key} is {value!r}; use one of {allowed[key]}.")
        result[key] = value
    return result
