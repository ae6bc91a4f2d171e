"""Compare a run with a committed baseline: per evaluator, a regression verdict from a proper test.

The same goldens run before and after a change are *paired* observations, so the test is the
exact McNemar test on the per-golden flips (pass→fail against fail→pass): a binomial test of the
flips (``power``). A significant excess of pass→fail flips is ``regressed`` and fails the gate;
of fail→pass, ``improved``; no flips, ``unchanged``; anything else ``inconclusive``, with how many
more paired cases at the same flip pattern would decide it. With no paired case at all (another
golden set, or every golden edited) the row is ``not comparable``, never ``unchanged``. A golden
whose content (query, expectations, labels) changed since the baseline is not paired: its old
outcome answered another question.

A golden run measured in the baseline and evaluated now without that measurement (a FAQ query
routed away from retrieval loses its ranking metrics) is *lost*: it counts as a failure now (a
metric: 0), so a pass->fail flip when it passed before. A golden run not run now (``-k``, shards)
or not evaluated (a cassette miss, an error: the gate fails on those on its own) is not lost.
Each comparison says how small a regression it could have detected (``power.Detectable``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.evaluators.registry import order_key
from pytest_supportbot_evals.recording.files import read_json
from pytest_supportbot_evals.run.results import CaseResult
from pytest_supportbot_evals.verdict import _power as power
from pytest_supportbot_evals.verdict import tokens

BASELINE_VERSION = 1
ALPHA = 0.05
#: What must match for a comparison to be like for like, and what a mismatch means.
FINGERPRINT = {
    "judge_model": "the judge model changed",
    "judge_prompt": "the judge prompt changed",
    "goldens": "the golden set changed",
    "model": "the agent's model changed",
    "judge": "the judge changed",
    "agent_steps": "the agent's step settings changed",
}


class BaselineError(ValueError):
    """The baseline file cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Comparison:
    suite: str
    evaluator: str
    baseline: tuple[int, int]
    now: tuple[int, int]
    pass_to_fail: list[str]
    fail_to_pass: list[str]
    verdict: str
    p_value: float | None
    note: str = ""
    #: Golden runs measured in the baseline and evaluated now without a measurement.
    lost: list[str] = field(default_factory=list)
    detectable: power.Detectable | None = None

    def flips(self) -> str:
        """``-2 +0``, and ``lost 13`` when measurements were lost."""
        text = f"-{len(self.pass_to_fail)} +{len(self.fail_to_pass)}"
        return text + (f" lost {len(self.lost)}" if self.lost else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "evaluator": self.evaluator,
            "baseline": {"passed": self.baseline[0], "total": self.baseline[1]},
            "now": {"passed": self.now[0], "total": self.now[1]},
            "pass_to_fail": self.pass_to_fail,
            "fail_to_pass": self.fail_to_pass,
            "verdict": self.verdict,
            "p_value": None if self.p_value is None else round(self.p_value, 5),
            "note": self.note,
            "lost": self.lost,
            "detectable": None if self.detectable is None else self.detectable.to_dict(),
        }


def outcomes(results: Iterable[CaseResult]) -> dict[str, dict[str, bool]]:
    """``{"suite:evaluator": {"case id[@repetition]": passed}}`` for every check of every case."""
    table: dict[str, dict[str, bool]] = {}
    for result in results:
        for check in result.checks:
            if not check.measured:  # expected, but nothing to measure: lost, not a value
                continue
            key = f"{result.suite}:{check.evaluator}"
            value = check.score if check.score is not None else check.passed
            table.setdefault(key, {})[result.run_id] = value  # a metric keeps its value
    return table


def build(
    results: Iterable[CaseResult],
    fingerprint: Mapping[str, Any],
    case_hashes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``case_hashes``: ``{"suite:run id": content hash}`` of the goldens that ran."""
    results = list(results)
    ran = {f"{r.suite}:{r.run_id}" for r in results}
    data = {
        "version": BASELINE_VERSION,
        "fingerprint": dict(fingerprint),
        "outcomes": outcomes(results),
    }
    if case_hashes:
        data["case_hashes"] = {k: v for k, v in sorted(case_hashes.items()) if k in ran}
    used, runs = tokens.suites(results), tokens.agent_by_run(results)
    by_step = tokens.agent_steps_by_run(results)
    if used:  # each suite's totals, each run's agent tokens and its steps' completion tokens
        data["tokens"] = {  # (the token-growth rules pair them)
            suite: {
                "agent": row["agent"],
                "judge": row["judge"],
                "runs": runs.get(suite, {}),
                "steps_by_run": by_step.get(suite, {}),
            }
            for suite, row in used.items()
        }
    return data


def load(path: Path) -> dict[str, Any]:
    try:
        data = read_json(
            path,
            f"baseline {path} does not exist; create it with --evals-update-baseline.",
            f"baseline {path} cannot be read ({{error}}); regenerate it with "
            "--evals-update-baseline.",
        )
    except ValueError as exc:
        raise BaselineError(str(exc)) from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise BaselineError(
            f"baseline {path} is not a version {BASELINE_VERSION} baseline; regenerate it with "
            "--evals-update-baseline."
        )
    outcomes = data.get("outcomes")
    if isinstance(outcomes, dict):  # ``suite:category``: the label evaluator's deprecated name
        data["outcomes"] = {_renamed(k): v for k, v in outcomes.items()}
    return data


def _renamed(key: str) -> str:
    suite, sep, name = key.rpartition(":")
    return f"{suite}{sep}label" if name == "category" else key


def mismatches(baseline: Mapping[str, Any], fingerprint: Mapping[str, Any]) -> list[str]:
    """Why this comparison is not like for like (empty when it is)."""
    old = baseline.get("fingerprint", {})
    notes = [
        why + _changed_fields(old.get(key), fingerprint.get(key))
        for key, why in FINGERPRINT.items()
        if key != "goldens" and old.get(key) != fingerprint.get(key)
    ]
    old_sets, new_sets = old.get("goldens", {}), fingerprint.get("goldens", {})
    changed_sets = sorted(s for s in set(old_sets) & set(new_sets) if old_sets[s] != new_sets[s])
    if changed_sets:
        notes.append(f"{FINGERPRINT['goldens']} ({', '.join(changed_sets)})")
    missing = sorted(set(new_sets) - set(old_sets))
    if missing:
        notes.append(f"no baseline for suite(s) {', '.join(missing)}: not compared")
    before, now = old.get("agent_prompts", {}), fingerprint.get("agent_prompts", {})
    changed = sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))
    if changed:
        notes.append(f"agent prompt(s) changed: {', '.join(changed)} (the change under test?)")
    return notes


def _changed_fields(before: Any, now: Any) -> str:
    """`` (max_tokens, prompt)``: which fields of a settings record differ, if it is one."""
    if not isinstance(before, dict) or not isinstance(now, dict):
        return ""
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    return f" ({', '.join(changed)})"


def compare(
    baseline: Mapping[str, Any],
    results: Iterable[CaseResult],
    case_hashes: Mapping[str, str] | None = None,
) -> list[Comparison]:
    results = list(results)
    now = outcomes(results)
    old_hashes, new_hashes = baseline.get("case_hashes") or {}, case_hashes or {}
    recorded = baseline.get("outcomes", {})
    suites = {key.split(":", 1)[0] for key in recorded}
    ran = {key.split(":", 1)[0] for key in now} | {r.suite for r in results}
    # Per suite, the runs evaluated now (no error); and the evaluators that checked anything
    # (an evaluator with no check at all is gone from the run, e.g. unregistered: not lost).
    evaluated: dict[str, set[str]] = {}
    for r in results:
        if r.error is None:
            evaluated.setdefault(r.suite, set()).add(r.run_id)
    present = {f"{r.suite}:{c.evaluator}" for r in results for c in r.checks}
    comparisons = []
    # Only suites that both the baseline and this run have; a suite not run is not a regression.
    keys = {k for k in set(now) | set(recorded) if k.split(":", 1)[0] in suites & ran}
    for key in sorted(keys, key=_order):
        suite, evaluator = key.split(":", 1)
        comparisons.append(
            _compare(
                suite,
                evaluator,
                recorded.get(key, {}),
                now.get(key, {}),
                evaluated.get(suite, set()) if key in present else set(),
                lambda case, suite=suite: _differs(old_hashes, new_hashes, f"{suite}:{case}"),
            )
        )
    return comparisons


def _compare(
    suite: str,
    evaluator: str,
    before: Mapping[str, float],
    after: Mapping[str, float],
    evaluated: set[str],
    edited_case: Callable[[str], bool],
) -> Comparison:
    """One evaluator of one suite: flips, lost measurements, the verdict and what it can detect."""
    edited = {case for case in set(before) & (set(after) | evaluated) if edited_case(case)}
    lost = sorted((set(before) - set(after)) & evaluated - edited)
    after = {**after, **dict.fromkeys(lost, 0)}  # a lost measurement is a failure (a metric: 0)
    paired = sorted(set(before) & set(after) - edited)
    # a pass->fail flip, or a metric that dropped (and the other way round)
    worse = [case for case in paired if before[case] > after[case] + 1e-9]
    better = [case for case in paired if after[case] > before[case] + 1e-9]
    verdict, p_value, note = decide(len(worse), len(better), len(paired))
    if not paired:
        verdict, p_value, note = "not comparable", None, "no golden run in both runs"
    unpaired = len(set(before) ^ set(after))
    notes = [note] if note else []
    if unpaired:
        notes.append(f"{unpaired} case(s) not in both runs: not compared")
    if edited:
        notes.append(f"{len(edited)} golden(s) edited since the baseline: not compared")
    if lost:
        notes.append(f"{len(lost)} golden run(s) lost their measurement: counted as failures")
    lost_set = set(lost)
    return Comparison(
        suite,
        evaluator,
        (sum(before.values()), len(before)),
        (sum(after.values()), len(after)),
        [c.removesuffix("#0") for c in worse if c not in lost_set],
        [c.removesuffix("#0") for c in better],
        verdict,
        p_value,
        "; ".join(notes),
        lost=[c.removesuffix("#0") for c in lost],
        detectable=power.Detectable(
            len(paired), sum(1 for case in paired if before[case] > 1e-9), ALPHA
        ),
    )


def _differs(old: Mapping[str, str], new: Mapping[str, str], key: str) -> bool:
    return key in old and key in new and old[key] != new[key]


def decide(worse: int, better: int, paired: int) -> tuple[str, float | None, str]:
    """Exact McNemar test on the discordant pairs: (verdict, p-value, note)."""
    if worse == better == 0:
        return "unchanged", None, ""
    flips = worse + better
    p_worse, p_better = power.p_value(worse, better), power.p_value(better, worse)
    if p_worse < ALPHA:
        return "regressed", p_worse, ""
    if p_better < ALPHA:
        return "improved", p_better, ""
    if worse == better:
        return "inconclusive", min(p_worse, p_better), "flips balance out"
    bigger, smaller = max(worse, better), min(worse, better)
    for factor in range(2, 101):
        if power.binomial_tail(bigger * factor, flips * factor) < ALPHA:
            more = paired * (factor - 1)
            return (
                "inconclusive",
                min(p_worse, p_better),
                (
                    f"about {more} more paired case runs with the same flip rate would decide it "
                    f"(e.g. --evals-repeat {factor})"
                ),
            )
    return "inconclusive", min(p_worse, p_better), f"{bigger} vs {smaller} flips: too close"


def _order(key: str) -> tuple[str, tuple[int, str]]:
    suite, evaluator = key.split(":", 1)
    return suite, order_key(evaluator)
