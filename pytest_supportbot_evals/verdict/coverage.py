"""Completeness: which golden runs a session was asked for, and which it really evaluated.

A pass rate over the cases that happened to run is not a measurement: the gate fails, naming
them, when a golden run that was selected gave no result (an unreadable cassette, a crash in a
fixture, a worker that died, ``-x`` stopping early). Keys are result ids (``<id>``, ``<id>#<turn>``,
``<id>@<repetition>``) per suite: goldens x repetitions x turns.

``planned`` is every run the golden sets define; ``selected`` the runs of the tests that were
collected and selected (``-k``, node ids, ``--evals-only`` and ``--evals-shard`` narrow
it on purpose: said in the summary, never a failure); a sharded run is complete when its merged
reports cover every planned run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_supportbot_evals.run.results import CaseResult, qualified

#: A test id's reason is cut to this length in the gate's reasons.
MAX_REASON = 300


@dataclass
class Coverage:
    planned: dict[str, set[str]] = field(default_factory=dict)
    selected: dict[str, set[str]] = field(default_factory=dict)
    #: Why a selected run gave no result, from its test's report (``qualified`` -> reason).
    reasons: dict[str, str] = field(default_factory=dict)

    def plan(self, suite: str, run_ids: Iterable[str]) -> None:
        self.planned.setdefault(suite, set()).update(run_ids)

    def select(self, suite: str, run_ids: Iterable[str]) -> None:
        self.selected.setdefault(suite, set()).update(run_ids)

    def note_reason(self, suite: str, run_ids: Iterable[str], reason: str) -> None:
        first = reason.strip().splitlines()[0] if reason.strip() else "no result"
        for run_id in run_ids:
            self.reasons.setdefault(qualified(suite, run_id), first[:MAX_REASON])

    def merge(self, other: Coverage) -> None:
        for suite, ids in other.planned.items():
            self.plan(suite, ids)
        for suite, ids in other.selected.items():
            self.select(suite, ids)
        for key, reason in other.reasons.items():
            self.reasons.setdefault(key, reason)

    @property
    def empty(self) -> bool:
        return not any(self.selected.values())

    def missing(self, results: Iterable[CaseResult], *, of: str = "selected") -> list[str]:
        """Runs (``of`` selected or planned) with no result, as ``qualified``s, sorted."""
        wanted = self.selected if of == "selected" else self.planned
        done = evaluated(results)
        return sorted(
            qualified(suite, run_id)
            for suite, ids in wanted.items()
            for run_id in ids - done.get(suite, set())
        )

    def narrowed(self) -> tuple[int, int]:
        """(selected, planned) counts over every suite."""
        selected = sum(len(ids & self.planned.get(s, ids)) for s, ids in self.selected.items())
        return selected, sum(len(ids) for ids in self.planned.values())

    def describe_missing(self, missing: list[str]) -> str:
        shown = [f"{key} ({self.reasons[key]})" if key in self.reasons else key for key in missing]
        return (
            f"{len(missing)} selected golden run(s) were not evaluated (no result: an error "
            f"before the judges ran, or the run stopped early): {', '.join(shown)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": {s: sorted(ids) for s, ids in sorted(self.planned.items())},
            "selected": {s: sorted(ids) for s, ids in sorted(self.selected.items())},
            "reasons": dict(sorted(self.reasons.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Coverage:
        data = data or {}
        return cls(
            {s: set(ids) for s, ids in data.get("planned", {}).items()},
            {s: set(ids) for s, ids in data.get("selected", {}).items()},
            dict(data.get("reasons", {})),
        )


def evaluated(results: Iterable[CaseResult]) -> dict[str, set[str]]:
    done: dict[str, set[str]] = {}
    for result in results:
        done.setdefault(result.suite, set()).add(result.run_id)
    return done


def duplicates(results: Iterable[CaseResult]) -> list[str]:
    """Runs that appear more than once (e.g. the same shard report merged twice)."""
    seen: set[tuple[str, str]] = set()
    twice = set()
    for result in results:
        key = (result.suite, result.run_id)
        if key in seen:
            twice.add(qualified(*key))
        seen.add(key)
    return sorted(twice)
