"""What a golden turn may say: its query, the label it expects, what each evaluator of the
registry should give, human labels and the entries that answer it.

Validation is strict, and every error names the file, the line, the case id and the field, and
says what to write instead: a golden set that silently drops a case is a gate that silently
tests less.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_supportbot_evals.evaluators.base import Registry

MAX_QUERY_CHARS = 4000
#: Human labels that are not an evaluator's: a user's thumbs-up/down on the answer
#: (``user_feedback`` in Phoenix), kept by export. Evaluators add their own (``human_labels``).
FEEDBACK_LABELS: dict[str, tuple[str, ...]] = {"user_feedback": ("thumbs-up", "thumbs-down")}


#: The label evaluator's deprecated name and back (fingerprints still say ``category``).
RENAMED, RENAMED_BACK = {"category": "label"}, {"label": "category"}


class GoldenError(ValueError):
    """A golden file is not valid; the message says where and how to fix it."""


@dataclass(frozen=True)
class GoldenTurn:
    """One query of a case and what each check should give for it."""

    query: str
    expect: Mapping[str, str]
    human_label: Mapping[str, str] = field(default_factory=dict)
    #: The ids of the entries that answer the query (``retrieval_hit``, ranking metrics);
    #: ``()``: the golden says nothing answers it; ``None``: it does not say.
    relevant_ids: tuple[str, ...] | None = None
    #: Strings the answer must contain (case-insensitive), and a regular expression it must
    #: match (``answer_contains`` / ``answer_matches`` evaluators); ``None``: not given.
    answer_contains: tuple[str, ...] | None = None
    answer_matches: str | None = None

    @property
    def faq_id(self) -> str | None:
        """The first entry that answers the query (the older, single-id name)."""
        return self.relevant_ids[0] if self.relevant_ids else None


@dataclass(frozen=True)
class Vocabulary:
    """What goldens may expect: each evaluator's labels (from the registry), the labels the
    agent gives (``category``), and the human labels."""

    #: Evaluator -> the labels an expectation may take (``category`` aside).
    expectations: Mapping[str, tuple[str, ...]]
    human_labels: Mapping[str, tuple[str, ...]]
    #: The agent's label vocabulary; ``None`` when undeclared (a ``category`` is then an error).
    labels: tuple[str, ...] | None = None

    @classmethod
    def of(cls, registry: Registry, labels: tuple[str, ...] | None) -> Vocabulary:
        return cls(
            {e.name: e.labels for e in registry if e.name != "label" and e.in_expect},
            {**registry.human_labels, **FEEDBACK_LABELS},
            labels,
        )

    @property
    def reviewable(self) -> tuple[str, ...]:
        """What ``review:`` may list: every expectation (``category`` included)."""
        return ("label", *self.expectations)

    def with_labels(self, labels: Any, path: Path) -> Vocabulary:
        """This vocabulary with a golden file's own ``labels:`` (they win)."""
        if labels is None:
            return self
        if (
            not isinstance(labels, list)
            or len(labels) < 2
            or not all(isinstance(x, str) and x for x in labels)
        ):
            raise GoldenError(
                f"{path}: 'labels:' must list the labels the agent gives (at least two "
                "strings), e.g. [warranty, policy, other]."
            )
        return replace(self, labels=tuple(labels))

    def parse_turn(self, raw: dict[str, Any], label: str) -> GoldenTurn:
        query = raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise GoldenError(f"{label}: field 'query' must be a non-empty string.")
        if len(query) > MAX_QUERY_CHARS:
            raise GoldenError(f"{label}: field 'query' is over {MAX_QUERY_CHARS} characters.")
        given = raw.get("expect", {})
        if (isinstance(given, dict) and {"category", "label"} & set(given)) or {
            "category",
            "label",
        } <= set(raw):
            raise GoldenError(
                f"{label}: give the expected label once, as the case's 'label' (or 'category')."
            )
        expect = _mapping(given, self.expectations, f"{label}: field 'expect'")
        category = raw.get("label", raw.get("category"))
        field_name = "label" if "label" in raw else "category"
        if category is not None:
            if self.labels is None:
                raise GoldenError(
                    f"{label}: field {field_name!r} is {category!r} but no label vocabulary is "
                    "declared; add 'labels: [...]' to the golden file or set ini evals_labels."
                )
            if category not in self.labels:
                raise GoldenError(
                    f"{label}: field {field_name!r} is {category!r}; use one of {self.labels}."
                )
            expect = {"label": category, **expect}
        where = f"{label}: field 'human_label'"
        human = _mapping(raw.get("human_label", {}), self.human_labels, where)
        contains, matches = _answer_expectations(raw, label)
        return GoldenTurn(query, expect, human, _relevant_ids(raw, label), contains, matches)


#: The roles a golden's given ``history`` may hold (earlier turns the agent did not write).
HISTORY_ROLES = ("user", "assistant")


def parse_history(raw: Any, label: str) -> tuple[tuple[str, str], ...]:
    """A golden's ``history:``: earlier turns given to the agent (``history=``) as if they had
    happened, each ``{role: user|assistant, content: text}``; ``()`` when the golden has none."""
    if raw is None:
        return ()
    example = "e.g. [{role: user, content: 'Hi'}, {role: assistant, content: 'Hello!'}]"
    if not isinstance(raw, list) or not raw:
        raise GoldenError(f"{label}: field 'history' must be a list of earlier turns, {example}.")
    turns = []
    for n, turn in enumerate(raw, start=1):
        if (
            not isinstance(turn, dict)
            or set(turn) != {"role", "content"}
            or turn["role"] not in HISTORY_ROLES
            or not isinstance(turn["content"], str)
            or not turn["content"].strip()
            or len(turn["content"]) > MAX_QUERY_CHARS
        ):
            raise GoldenError(
                f"{label}: history turn {n} must be a mapping with 'role' (user or assistant) "
                f"and a non-empty 'content' (at most {MAX_QUERY_CHARS} characters), {example}."
            )
        turns.append((turn["role"], turn["content"]))
    return tuple(turns)


def _answer_expectations(
    raw: dict[str, Any], label: str
) -> tuple[tuple[str, ...] | None, str | None]:
    """``answer_contains`` (a string or a list of them) and ``answer_matches`` (a regex)."""
    contains = raw.get("answer_contains")
    if contains is not None:
        items = [contains] if isinstance(contains, str) else contains
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(s, str) and s.strip() for s in items)
        ):
            raise GoldenError(
                f"{label}: field 'answer_contains' must be a non-empty string or a list of them, "
                "e.g. [shipped, FedEx] (each must appear in the answer, case-insensitive)."
            )
        contains = tuple(items)
    matches = raw.get("answer_matches")
    if matches is not None:
        if not isinstance(matches, str) or not matches.strip():
            raise GoldenError(
                f"{label}: field 'answer_matches' must be a regular expression (a string), "
                "e.g. 'tracking (number )?\\d+'."
            )
        try:
            re.compile(matches)
        except re.error as exc:
            raise GoldenError(
                f"{label}: field 'answer_matches' is not a valid regular expression ({exc}): "
                f"{matches!r}; fix it (quote it in YAML, escape backslashes in double quotes)."
            ) from None
    return contains, matches


def _relevant_ids(raw: dict[str, Any], label: str) -> tuple[str, ...] | None:
    if "faq_id" in raw and "relevant_ids" in raw:
        raise GoldenError(f"{label}: give 'relevant_ids' only ('faq_id' is its older name).")
    if "faq_id" in raw:
        faq_id = raw["faq_id"]
        if not isinstance(faq_id, str):
            raise GoldenError(f"{label}: field 'faq_id' must be a string such as 'faq-002'.")
        return (faq_id,)
    if "relevant_ids" not in raw:
        return None
    ids = raw["relevant_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise GoldenError(
            f"{label}: field 'relevant_ids' must list the ids of the entries that answer the "
            "query, e.g. [faq-002] ([] when none does)."
        )
    return tuple(ids)


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


@functools.cache
def default_vocabulary() -> Vocabulary:
    """SupportBot's (the reference agent's): its labels and evaluators."""
    from pytest_supportbot_evals.evaluators.registry import reference_registry
    from pytest_supportbot_evals.run import reference

    return Vocabulary.of(reference_registry(), reference.LABELS)
