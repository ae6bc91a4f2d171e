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
}
CASE_FIELDS = {"id", "query", "category", "expect", "human_label", "faq_id", "tags", "notes"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_FILE_BYTES = 5_000_000
MAX_QUERY_CHARS = 4000


class GoldenError(ValueError):
    """A golden file is not valid; the message says where and how to fix it."""


@dataclass(frozen=True)
class GoldenCase:
    id: str
    query: str
    expect: Mapping[str, str]
    human_label: Mapping[str, str] = field(default_factory=dict)
    faq_id: str | None = None
    tags: tuple[str, ...] = ()
    source: str = ""
    #: Which repetition of the case this is (``--supportbot-repeat``); 0 is the first.
    repetition: int = 0

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
        digest.update(
            repr(
                (case.id, case.query, sorted(case.expect.items()), sorted(case.human_label.items()))
            ).encode()
        )
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
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise GoldenError(f"{label}: field 'tags' must be a list of strings.")
    faq_id = raw.get("faq_id")
    if faq_id is not None and not isinstance(faq_id, str):
        raise GoldenError(f"{label}: field 'faq_id' must be a string such as 'faq-002'.")
    return GoldenCase(
        id=case_id,
        query=query,
        expect={"category": category, **expect},
        human_label=human,
        faq_id=faq_id,
        tags=tuple(tags),
        source=where,
    )


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
