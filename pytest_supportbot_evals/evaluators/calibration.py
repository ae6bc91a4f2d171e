"""Judge the judge: agreement of an LLM judge with the human labels of the goldens.

Accuracy alone flatters a judge that always says the majority label, so Cohen's kappa (agreement
beyond chance) decides whether the judge is trusted. A judge that gave no verdict (an error, a
reply cut off) counts as a disagreement in accuracy and kappa, and is listed separately.

When the human labels hold one class only, kappa says nothing (it is 0 or undefined whatever the
judge does): then accuracy decides, against its own minimum, and the summary says why.

An untrusted judge is *advisory* by default: its pass-rate and baseline rows are shown but do not
fail or pass the gate on their own (``JudgePolicy.strict`` restores gating on them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

NO_VERDICT = "(no verdict)"
DEFAULT_MIN_KAPPA = 0.4
DEFAULT_MIN_ACCURACY = 0.8


@dataclass(frozen=True)
class JudgePolicy:
    """When a judge is trusted, and what an untrusted judge's rows may do."""

    min_kappa: float = DEFAULT_MIN_KAPPA
    #: Used instead of kappa when the human labels hold one class only.
    min_accuracy: float = DEFAULT_MIN_ACCURACY
    #: Gate on an untrusted judge's rows anyway (default: they are advisory).
    strict: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_kappa": self.min_kappa,
            "min_accuracy": self.min_accuracy,
            "strict": self.strict,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> JudgePolicy:
        data = data or {}
        return cls(
            float(data.get("min_kappa", DEFAULT_MIN_KAPPA)),
            float(data.get("min_accuracy", DEFAULT_MIN_ACCURACY)),
            bool(data.get("strict", False)),
        )


@dataclass(frozen=True)
class Calibration:
    judge: str
    labels: tuple[str, ...]
    #: confusion[human][judge] = count; the judge side includes NO_VERDICT.
    confusion: dict[str, dict[str, int]]
    policy: JudgePolicy = field(default_factory=JudgePolicy)

    @property
    def min_kappa(self) -> float:
        return self.policy.min_kappa

    @property
    def human_classes(self) -> list[str]:
        """The labels the humans actually used."""
        return [label for label in self.labels if sum(self.confusion[label].values())]

    @property
    def one_class(self) -> bool:
        """The human labels hold one class only: kappa cannot measure agreement."""
        return len(self.human_classes) == 1

    @property
    def n(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def no_verdict(self) -> int:
        return sum(row.get(NO_VERDICT, 0) for row in self.confusion.values())

    @property
    def accuracy(self) -> float | None:
        if not self.n:
            return None
        return sum(self.confusion[label].get(label, 0) for label in self.labels) / self.n

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa over all pairs; None when undefined (no pairs, human labels of one class
        only, or chance agreement 1)."""
        n = self.n
        if not n or self.one_class:
            return None
        observed = self.accuracy or 0.0
        judged = (*self.labels, NO_VERDICT)
        human_share = {h: sum(self.confusion[h].values()) / n for h in self.labels}
        judge_share = {j: sum(self.confusion[h].get(j, 0) for h in self.labels) / n for j in judged}
        expected = sum(human_share[label] * judge_share[label] for label in self.labels)
        if expected >= 1.0:
            return None
        return (observed - expected) / (1.0 - expected)

    @property
    def trusted(self) -> bool:
        if self.one_class:
            return (self.accuracy or 0.0) >= self.policy.min_accuracy
        kappa = self.kappa
        return kappa is not None and kappa >= self.min_kappa

    def why(self) -> str:
        """Why the judge is (un)trusted, in one phrase."""
        accuracy, kappa = self.accuracy, self.kappa
        acc = "-" if accuracy is None else f"{accuracy:.0%}"
        if not self.n:
            return "no human-labelled pairs"
        if self.one_class:
            return (
                f"kappa undefined: the human labels are all {self.human_classes[0]!r} (one class "
                f"only), so accuracy decides: {acc} "
                f"{'>=' if self.trusted else '<'} {self.policy.min_accuracy:.0%}; add human labels "
                "of the other class to measure agreement beyond chance"
            )
        if kappa is None:
            return "kappa undefined"
        return (
            f"kappa {kappa:.2f} {'>=' if self.trusted else '<'} {self.min_kappa}, "
            f"accuracy {acc}" + ("" if self.trusted else ": no better than chance at the truth")
        )

    def to_dict(self) -> dict[str, Any]:
        accuracy, kappa = self.accuracy, self.kappa
        return {
            "judge": self.judge,
            "pairs": self.n,
            "no_verdict": self.no_verdict,
            "accuracy": None if accuracy is None else round(accuracy, 4),
            "kappa": None if kappa is None else round(kappa, 4),
            "min_kappa": self.min_kappa,
            "min_accuracy": self.policy.min_accuracy,
            "one_class": self.one_class,
            "trusted": self.trusted,
            "why": self.why(),
            "confusion": self.confusion,
        }

    def lines(self) -> list[str]:
        """The calibration as a few lines of text for the terminal summary."""
        accuracy, kappa = self.accuracy, self.kappa
        status = "trusted" if self.trusted else "UNTRUSTWORTHY"
        head = (
            f"judge {self.judge} vs the truth (human labels, relevant_ids): n={self.n}, accuracy="
            f"{'-' if accuracy is None else f'{accuracy:.1%}'}, kappa="
            f"{'-' if kappa is None else f'{kappa:.2f}'} -> {status} ({self.why()})"
        )
        columns = (*self.labels, NO_VERDICT)
        rows = [f"    truth \\ judge  {'  '.join(f'{c:>12}' for c in columns)}"]
        for label in self.labels:
            counts = "  ".join(f"{self.confusion[label].get(c, 0):>12}" for c in columns)
            rows.append(f"    {label:<14} {counts}")
        return [head, *rows]


def calibrate(
    pairs: Iterable[tuple[str, str | None]],
    judge: str,
    labels: Sequence[str],
    policy: JudgePolicy | None = None,
) -> Calibration:
    """``pairs`` are (human label, judge label or None when the judge gave no verdict)."""
    confusion: dict[str, dict[str, int]] = {label: {} for label in labels}
    for human, verdict in pairs:
        if human not in confusion:
            continue
        column = verdict if verdict in labels else NO_VERDICT
        confusion[human][column] = confusion[human].get(column, 0) + 1
    return Calibration(judge, tuple(labels), confusion, policy or JudgePolicy())
