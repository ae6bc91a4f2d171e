"""Everything a run concludes from its results: thresholds, baseline verdicts, judge calibration.

The session's exit status is ``verdict``: it fails when a pass rate is below its threshold, when
a selected golden run gave no result or could not be evaluated, or when an evaluator
*significantly* regressed against the baseline. An inconclusive comparison and an untrustworthy
judge are warnings, shown everywhere the numbers are (summary, JSON, Markdown), never hidden.

An untrusted judge (calibration against the goldens' human labels) is advisory by default: its
threshold and baseline rows are shown, but neither fail nor pass the gate on their own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.evaluators.calibration import Calibration, JudgePolicy, calibrate
from pytest_supportbot_evals.run.results import qualified
from pytest_supportbot_evals.run.runner import CaseResult
from pytest_supportbot_evals.verdict import _power as power
from pytest_supportbot_evals.verdict import baseline as baseline_mod
from pytest_supportbot_evals.verdict import tokens
from pytest_supportbot_evals.verdict.coverage import Coverage
from pytest_supportbot_evals.verdict.gate import GateResult, compute


@dataclass(frozen=True)
class Analysis:
    gate: GateResult
    comparisons: list[baseline_mod.Comparison] = field(default_factory=list)
    baseline_notes: list[str] = field(default_factory=list)
    calibrations: list[Calibration] = field(default_factory=list)
    #: Set when the baseline cannot be used at all: the gate fails until it is fixed.
    baseline_error: str | None = None
    policy: JudgePolicy = field(default_factory=JudgePolicy)
    #: (selected, planned) golden runs: a narrowed run says so.
    selection: tuple[int, int] = (0, 0)
    #: Suites whose agent tokens grew over the limit against the baseline (they fail the gate).
    token_growth: list[str] = field(default_factory=list)
    #: Per suite: tokens per step, agent and judge totals with their cost (``tokens.priced``).
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def advisory(self) -> set[str]:
        """Judges whose rows do not decide the gate (untrusted, and not gated strictly)."""
        return advisory_judges(self.calibrations, self.policy)

    @property
    def regressed(self) -> list[baseline_mod.Comparison]:
        return [
            c
            for c in self.comparisons
            if c.verdict == "regressed" and c.evaluator not in self.advisory
        ]

    @property
    def verdict(self) -> str:
        failed = (
            self.gate.gate == "fail" or self.regressed or self.baseline_error or self.token_growth
        )
        return "fail" if failed else "pass"

    def untrusted(self) -> set[str]:
        return untrusted_judges(self.calibrations)

    def reasons(self) -> list[str]:
        lines = self.gate.reasons()
        if self.baseline_error:
            lines.append(self.baseline_error)
        for c in self.regressed:
            dropped = [f"pass->fail {', '.join(c.pass_to_fail)}"] if c.pass_to_fail else []
            if c.lost:
                dropped.append(f"lost their measurement {', '.join(c.lost)}")
            lines.append(
                f"{c.evaluator} regressed against the baseline: "
                f"{c.baseline[0]:.4g}/{c.baseline[1]} -> {c.now[0]:.4g}/{c.now[1]}, "
                f"{'; '.join(dropped)} (p={c.p_value:.3g})" + self.gate.over(c.suite)
            )
        return lines + self.token_growth

    def undetectable(self) -> list[baseline_mod.Comparison]:
        """Gating comparisons where even a total breakage could not be called a regression."""
        return [
            c
            for c in self.comparisons
            if c.detectable is not None
            and c.detectable.paired
            and not c.detectable.total_breakage_detectable
            and c.evaluator not in self.advisory
        ]

    def warnings(self) -> list[str]:
        lines = [f"baseline: {note}" for note in self.baseline_notes]
        selected, planned = self.selection
        if planned and selected < planned:
            lines.append(
                f"partial run: {selected} of {planned} golden runs selected (node ids, -k, -m, "
                "--evals-only or --evals-shard); the gate covers these only"
            )
        for c in self.comparisons:
            if c.verdict in ("inconclusive", "not comparable"):
                lines.append(f"{c.evaluator}: {c.verdict} against the baseline ({c.note})")
        blind = self.undetectable()
        if blind:
            needed = power.min_flips(baseline_mod.ALPHA)
            listed = ", ".join(
                f"{qualified(c.suite, c.evaluator)} ({c.detectable.describe()})"
                for c in blind
                if c.detectable
            )
            lines.append(
                f"the baseline comparison cannot detect even a total breakage of: {listed}; at "
                f"alpha {baseline_mod.ALPHA} it needs at least {needed} golden runs that passed "
                "in the baseline to flip, so only the threshold can fail these (docs/how-many-"
                "goldens.md)"
            )
        for cal in self.calibrations:
            if cal.trusted:
                continue
            if cal.judge in self.advisory:
                lines.append(
                    f"{cal.judge} is advisory: its judge is not trusted ({cal.why()}), so its "
                    "threshold and baseline rows do not decide the gate "
                    "(--evals-strict-judges gates on them anyway)"
                )
            else:
                lines.append(
                    f"{cal.judge}: its judge is not trusted ({cal.why()}), but gates "
                    "(strict judges)"
                )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparisons": [c.to_dict() for c in self.comparisons],
            "baseline_notes": self.baseline_notes,
            "calibration": {c.judge: c.to_dict() for c in self.calibrations},
            "advisory": sorted(self.advisory),
            "judge_policy": self.policy.to_dict(),
            "warnings": self.warnings(),
            "token_growth": self.token_growth,
            "tokens": self.tokens,
        }


def untrusted_judges(calibrations: Sequence[Calibration]) -> set[str]:
    return {c.judge for c in calibrations if not c.trusted}


def advisory_judges(calibrations: Sequence[Calibration], policy: JudgePolicy) -> set[str]:
    """The untrusted judges, unless judges are gated strictly: their rows do not decide; nor do
    the rows of the metrics computed from their verdicts (``judged_*``)."""
    from pytest_supportbot_evals.evaluators.ranking import DERIVED_FROM

    if policy.strict:
        return set()
    untrusted = untrusted_judges(calibrations)
    return untrusted | {name for name, judge in DERIVED_FROM.items() if judge in untrusted}


def fingerprint(meta: Mapping[str, Any], goldens: Mapping[str, str]) -> dict[str, Any]:
    """What a baseline records about the run it was made from (see ``baseline.FINGERPRINT``)."""
    return {
        "model": meta["model"],
        "judge_model": meta["judge_model"],
        "judge_prompt": meta["judge_prompt"].get("judge_retrieval_relevance"),
        "agent_prompts": meta["agent_prompts"],
        "judge": meta.get("judge"),
        "agent_steps": meta.get("agent_steps"),
        "goldens": dict(goldens),
        # the team's LLM evaluators' templates (absent when there are none, as in older runs)
        **({"evaluator_templates": t} if (t := meta.get("evaluator_templates")) else {}),
    }


@dataclass(frozen=True)
class AnalysisInputs:
    """What a run's results are judged against: everything ``analyse`` needs besides them."""

    thresholds: Mapping[str, Mapping[str, float]]
    run_fingerprint: Mapping[str, Any]
    baseline_path: Path | None
    policy: JudgePolicy
    coverage: Coverage | None = None
    marker_thresholds: Mapping[str, Collection[str]] | None = None
    cli_thresholds: Collection[str] = ()
    case_hashes: Mapping[str, str] | None = None
    #: ``selected`` (one run) or ``planned`` (merged shards must cover the set).
    missing_of: str = "selected"
    max_token_growth: float | None = None
    max_completion_growth: float | None = None
    prices: Mapping[str, Sequence[float]] | None = None
    #: (agent model, judge model), for token prices.
    models: tuple[str, str] = ("", "")


def analyse(results: Sequence[CaseResult], given: AnalysisInputs) -> Analysis:
    """The run's conclusions from its results and what they are judged against."""
    policy, coverage, missing_of = given.policy, given.coverage, given.missing_of
    cals = calibrations(results, policy)
    gate = compute(
        results,
        given.thresholds,
        advisory=advisory_judges(cals, policy),
        marker=given.marker_thresholds,
        cli=given.cli_thresholds,
    )
    selection = (0, 0)
    if coverage is not None:
        missing = coverage.missing(results, of=missing_of)
        if missing:
            gate = replace(gate, missing=missing, missing_reason=coverage.describe_missing(missing))
        selection = coverage.narrowed()
        wanted = coverage.selected if missing_of == "selected" else coverage.planned
        scope = {
            suite: (done, max(ran, len(wanted.get(suite, ()))))
            for suite, (done, ran) in gate.scope.items()
        }
        gate = replace(gate, scope=scope)
    notes: list[str] = []
    if selection[0] < selection[1] and missing_of == "selected" and gate.unapplied:
        # A narrowed run (a shard, -k) may just not include the cases a threshold checks.
        notes, gate = list(gate.unapplied), replace(gate, unapplied=[])
    base: dict[str, Any] = {
        "calibrations": cals,
        "policy": policy,
        "selection": selection,
        "tokens": tokens.priced(results, given.prices or {}, *given.models),
    }
    comparisons: list[baseline_mod.Comparison] = []
    baseline_path = given.baseline_path
    if baseline_path is not None:
        if baseline_path.exists():
            try:
                data = baseline_mod.load(baseline_path)
            except baseline_mod.BaselineError as exc:
                return Analysis(gate, [], notes, baseline_error=str(exc), **base)
            notes += baseline_mod.mismatches(data, given.run_fingerprint)
            comparisons = baseline_mod.compare(data, results, given.case_hashes)
            grown, token_notes = tokens.growth(
                data.get("tokens", {}), results, given.max_token_growth, given.max_completion_growth
            )
            notes += token_notes
            base["token_growth"] = grown
        else:
            notes += [f"{baseline_path} does not exist yet: write it with --evals-update-baseline"]
    return Analysis(gate, comparisons, notes, **base)


def calibrations(results: Sequence[CaseResult], policy: JudgePolicy) -> list[Calibration]:
    """Judge agreement with the truth, where both exist. A judge of retrieved documents (the
    relevance judge) is calibrated per document against the golden's ``relevant_ids``: what was
    actually retrieved, each document relevant exactly when the golden names it. Otherwise (no
    ``relevant_ids``), a span's verdict against the golden's ``human_label``: any judge a golden
    gives one for (``retrieval_relevance``, or a team's evaluator with ``human_labels=True``)."""
    from pytest_supportbot_evals.evaluators.registry import reference_registry

    known = reference_registry().human_labels
    pairs: dict[str, list[tuple[str, str | None]]] = {}
    for r in results:
        for judge in dict.fromkeys(v.judge for v in r.verdicts):
            documents = [v for v in r.verdicts if v.judge == judge and v.document_id is not None]
            span = next(
                (v for v in r.verdicts if v.judge == judge and v.document_position is None), None
            )
            if documents and r.relevant_ids is not None:
                pairs.setdefault(judge, []).extend(
                    ("relevant" if v.document_id in r.relevant_ids else "irrelevant", v.label)
                    for v in documents
                )
            elif span is not None and judge in r.human_labels:
                pairs.setdefault(judge, []).append((r.human_labels[judge], span.label))
    found = []
    for judge, judged in pairs.items():
        seen = {h for h, _ in judged} | {v for _, v in judged if v}
        labels = known.get(judge) or tuple(sorted(seen))
        found.append(calibrate(judged, judge, labels, policy))
    return found
