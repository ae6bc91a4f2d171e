"""Everything a run concludes from its results: thresholds, baseline verdicts, judge calibration.

The session's exit status is ``verdict``: it fails when a pass rate is below its threshold, when
a case could not be evaluated, or when an evaluator *significantly* regressed against the
baseline. An inconclusive comparison and an untrustworthy judge are warnings, shown everywhere
the numbers are (summary, JSON, Markdown), never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_supportbot_evals import baseline as baseline_mod
from pytest_supportbot_evals.calibration import Calibration, calibrate
from pytest_supportbot_evals.gate import GateResult, compute
from pytest_supportbot_evals.runner import CaseResult
from supportbot.judges import RETRIEVAL_RELEVANCE

JUDGED_LABELS = {RETRIEVAL_RELEVANCE: ("relevant", "irrelevant")}


@dataclass(frozen=True)
class Analysis:
    gate: GateResult
    comparisons: list[baseline_mod.Comparison] = field(default_factory=list)
    baseline_notes: list[str] = field(default_factory=list)
    calibrations: list[Calibration] = field(default_factory=list)
    #: Set when the baseline cannot be used at all: the gate fails until it is fixed.
    baseline_error: str | None = None

    @property
    def regressed(self) -> list[baseline_mod.Comparison]:
        return [c for c in self.comparisons if c.verdict == "regressed"]

    @property
    def verdict(self) -> str:
        failed = self.gate.gate == "fail" or self.regressed or self.baseline_error
        return "fail" if failed else "pass"

    def untrusted(self) -> set[str]:
        return {c.judge for c in self.calibrations if not c.trusted}

    def reasons(self) -> list[str]:
        lines = self.gate.reasons()
        if self.baseline_error:
            lines.append(self.baseline_error)
        for c in self.regressed:
            lines.append(
                f"{c.evaluator} regressed against the baseline: {c.baseline[0]}/{c.baseline[1]} -> "
                f"{c.now[0]}/{c.now[1]}, pass->fail {', '.join(c.pass_to_fail)} (p={c.p_value:.3g})"
            )
        return lines

    def warnings(self) -> list[str]:
        lines = [f"baseline: {note}" for note in self.baseline_notes]
        for c in self.comparisons:
            if c.verdict == "inconclusive":
                lines.append(f"{c.evaluator}: inconclusive against the baseline ({c.note})")
        for judge in sorted(self.untrusted()):
            lines.append(
                f"judge {judge} disagrees with the human labels (kappa below the minimum): "
                "its gate is marked untrusted"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparisons": [c.to_dict() for c in self.comparisons],
            "baseline_notes": self.baseline_notes,
            "calibration": {c.judge: c.to_dict() for c in self.calibrations},
            "warnings": self.warnings(),
        }


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
    }


def analyse(
    results: Sequence[CaseResult],
    thresholds: Mapping[str, Mapping[str, float]],
    *,
    run_fingerprint: Mapping[str, Any],
    baseline_path: Path | None,
    min_kappa: float,
) -> Analysis:
    gate = compute(results, thresholds)
    comparisons: list[baseline_mod.Comparison] = []
    notes: list[str] = []
    if baseline_path is not None:
        if baseline_path.exists():
            try:
                data = baseline_mod.load(baseline_path)
            except baseline_mod.BaselineError as exc:
                return Analysis(gate, [], [], calibrations(results, min_kappa), str(exc))
            notes = baseline_mod.mismatches(data, run_fingerprint)
            comparisons = baseline_mod.compare(data, results)
        else:
            notes = [
                f"{baseline_path} does not exist yet: write it with --supportbot-update-baseline"
            ]
    return Analysis(gate, comparisons, notes, calibrations(results, min_kappa))


def calibrations(results: Sequence[CaseResult], min_kappa: float) -> list[Calibration]:
    """Judge agreement with the goldens' human labels, where both exist."""
    found = []
    for judge, labels in JUDGED_LABELS.items():
        pairs = [
            (r.human_labels[judge], next((v.label for v in r.verdicts if v.judge == judge), None))
            for r in results
            if judge in r.human_labels and any(v.judge == judge for v in r.verdicts)
        ]
        if pairs:
            found.append(calibrate(pairs, judge, labels, min_kappa))
    return found
