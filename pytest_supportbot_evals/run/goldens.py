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

from pytest_supportbot_evals.config.vocabulary import (
    RENAMED,
    RENAMED_BACK,
    GoldenError,
    GoldenTurn,
    Vocabulary,
    default_vocabulary,
    parse_history,
)

#: ``label`` is the neutral name of ``category``; ``faq_id`` an older name of ``relevant_ids``.
TURN_FIELDS = {"query", "category", "label", "expect", "human_label", "faq_id", "relevant_ids"}
TURN_FIELDS |= {"answer_contains", "answer_matches"}
CASE_FIELDS = TURN_FIELDS | {"id", "tags", "notes", "turns", "review", "origin", "history"}
#: Keys a golden file may hold: its cases, and the label vocabulary its agent gives.
FILE_KEYS = {"cases", "labels"}
#: Where an exported case came from (``evals export-goldens``): a link back to the trace.
ORIGIN_FIELDS = {"trace_id", "span_id", "session_id", "project", "url", "filters", "exported_at"}
MAX_TURNS = 20
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class GoldenCase:
    """A golden case: one query, or (with ``follow_ups``) a whole conversation judged per turn.

    The case's own ``query``/``expect``/... are its first turn.
    """

    id: str
    query: str
    expect: Mapping[str, str]
    human_label: Mapping[str, str] = field(default_factory=dict)
    relevant_ids: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    source: str = ""
    #: Which repetition of the case this is (``--evals-repeat``); 0 is the first.
    repetition: int = 0
    #: The turns after the first, run in the same session (the bot remembers earlier turns).
    follow_ups: tuple[GoldenTurn, ...] = ()
    #: Expectations a human has not confirmed yet (exported cases): reported, still checked.
    review: tuple[str, ...] = ()
    origin: Mapping[str, str] = field(default_factory=dict)
    answer_contains: tuple[str, ...] | None = None
    answer_matches: str | None = None
    history: tuple[tuple[str, str], ...] = ()  # (role, content) turns given as ``history=``

    @property
    def turns(self) -> tuple[GoldenTurn, ...]:
        first = GoldenTurn(
            self.query,
            self.expect,
            self.human_label,
            self.relevant_ids,
            self.answer_contains,
            self.answer_matches,
        )
        return (first, *self.follow_ups)

    @property
    def is_conversation(self) -> bool:
        return bool(self.follow_ups)

    @property
    def run_id(self) -> str:
        """The test id and cassette name: the golden id, plus ``@N`` for repetition N > 0."""
        return self.id if self.repetition == 0 else f"{self.id}@{self.repetition}"

    @property
    def category(self) -> str | None:
        return self.expect.get("label")


def load_goldens(paths: Iterable[Path], vocabulary: Vocabulary | None = None) -> list[GoldenCase]:
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
        for case in load_file(file, vocabulary):
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
            (t.query, sorted((RENAMED_BACK.get(k, k), v) for k, v in t.expect.items()))
            + (sorted(t.human_label.items()),)
            + (
                (t.answer_contains, t.answer_matches)
                if t.answer_contains or t.answer_matches
                else ()
            )
            for t in case.turns
        ]
        key = (case.id, *turns[0]) if len(turns) == 1 else (case.id, turns)  # single: as before
        key += (case.history,) if case.history else ()
        digest.update(repr(key).encode())
    return digest.hexdigest()[:12]


def load_file(path: Path, vocabulary: Vocabulary | None = None) -> list[GoldenCase]:
    """The cases of one golden file, validated against ``vocabulary`` (default: SupportBot's,
    the reference agent's)."""
    import yaml

    if path.stat().st_size > MAX_FILE_BYTES:
        raise GoldenError(f"{path}: file is over {MAX_FILE_BYTES:,} bytes; split it into files.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GoldenError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8.") from None
    _check_depth(text, path)
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) if document is not None else None
    except RecursionError:
        raise GoldenError(
            f"{path}: nested deeper than a golden file can be; a case is a mapping of short fields."
        ) from None
    except yaml.YAMLError as exc:  # syntax, and tags safe_load refuses (e.g. !!python/object)
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise GoldenError(f"{where}: invalid YAML ({problem}); fix the syntax there.") from None
    if document is None:
        raise GoldenError(f"{path}: file is empty; add a 'cases:' list or delete the file.")
    if (
        not isinstance(data, dict)
        or "cases" not in data
        or set(data) - FILE_KEYS
        or not isinstance(data["cases"], list)
    ):
        raise GoldenError(
            f"{path}:1: the file must hold a 'cases:' list (and optionally 'labels:', the labels "
            "its agent gives); nothing else."
        )
    if not data["cases"]:
        raise GoldenError(f"{path}:1: 'cases:' is empty; add cases or delete the file.")
    vocabulary = (vocabulary or default_vocabulary()).with_labels(data.get("labels"), path)
    lines = _case_lines(document)
    cases = []
    for i, raw in enumerate(data["cases"]):
        where = f"{path}:{lines[i] if i < len(lines) else 1}"
        try:
            cases.append(_parse_case(raw, where, vocabulary))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if isinstance(exc, GoldenError):
                raise
            raise GoldenError(  # a shape no check above foresaw: still one clear error
                f"{where}: case {_name(raw)}: a field holds a value of the wrong shape "
                f"({type(exc).__name__}: {exc}); each field is a string, a list of strings or "
                "a mapping of strings."
            ) from None
    return cases


#: Deeper ``[``/``{`` nesting than any golden needs (a case is a mapping of short fields).
MAX_DEPTH = 20


def _check_depth(text: str, path: Path) -> None:
    """Refuse deep flow nesting before the YAML parser recurses into it."""
    depth = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, index) + 1
                raise GoldenError(
                    f"{path}:{line}: nested more than {MAX_DEPTH} levels deep; a case is a "
                    "mapping of short fields: fix or remove that value."
                )
        elif char in "]}":
            depth = max(0, depth - 1)


def _name(raw: Any) -> str:
    case_id = raw.get("id") if isinstance(raw, dict) else None
    return repr(case_id) if isinstance(case_id, str) else "(no id)"


def _case_lines(document: Any) -> list[int]:
    """1-based line of each item under ``cases:`` (for error messages)."""
    for key, value in getattr(document, "value", []):
        if getattr(key, "value", None) == "cases":
            return [item.start_mark.line + 1 for item in getattr(value, "value", [])]
    return []


def _parse_case(raw: Any, where: str, vocabulary: Vocabulary) -> GoldenCase:
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
    turns = _parse_turns(raw, label, vocabulary)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise GoldenError(f"{label}: field 'tags' must be a list of strings.")
    review = raw.get("review", [])
    review = [RENAMED.get(r, r) for r in review] if isinstance(review, list) else review
    if (
        not isinstance(review, list)
        or not all(isinstance(r, str) for r in review)
        or not set(review) <= set(vocabulary.reviewable)
    ):
        raise GoldenError(
            f"{label}: field 'review' must list expectation names from "
            f"{sorted(vocabulary.reviewable)}; delete the field once a human has confirmed them."
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
        relevant_ids=first.relevant_ids,
        tags=tuple(tags),
        source=where,
        follow_ups=tuple(turns[1:]),
        review=tuple(review),
        origin={str(k): str(v) for k, v in origin.items()},
        answer_contains=first.answer_contains,
        answer_matches=first.answer_matches,
        history=parse_history(raw.get("history"), label),
    )


def _parse_turns(raw: dict[str, Any], label: str, vocabulary: Vocabulary) -> list[GoldenTurn]:
    if "turns" not in raw:
        return [vocabulary.parse_turn(raw, label)]
    mixed = sorted(set(raw) & TURN_FIELDS)
    if mixed:
        raise GoldenError(
            f"{label}: a conversation gives {mixed} inside each of its 'turns', not beside them."
        )
    turns = raw["turns"]
    if not isinstance(turns, list) or not turns or len(turns) > MAX_TURNS:
        raise GoldenError(
            f"{label}: field 'turns' must be a list of 1 to {MAX_TURNS} turns, each with "
            "'query' (and its expectations)."
        )
    parsed = []
    for n, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or set(turn) - TURN_FIELDS:
            extra = sorted(set(turn) - TURN_FIELDS) if isinstance(turn, dict) else []
            raise GoldenError(
                f"{label}: turn {n} must be a mapping with keys from {sorted(TURN_FIELDS)}"
                + (f"; unknown: {extra}." if extra else ".")
            )
        parsed.append(vocabulary.parse_turn(turn, f"{label}, turn {n}"))
    return parsed
