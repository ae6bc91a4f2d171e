"""Judge the judge: agreement of an LLM judge with the human labels of the goldens.

Accuracy alone flatters a judge that always says the majority label, so Cohen's kappa (agreement
beyond chance) decides whether the judge is trusted. A judge that gave no verdict (an error, a
reply cut off) counts as a disagreement in accuracy and kappa, and is listed separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NO_VERDICT = "(no verdict)"
DEFAULT_MIN_KAPPA = 0.4


@dataclass(frozen=True)
class Calibration:
    judge: str
    labels: tuple[str, ...]
    #: confusion[human][judge] = count; the judge side includes NO_VERDICT.
    confusion: dict[str, dict[str, int]]
    min_kappa: float

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
        """Cohen's kappa over all pairs; None when undefined (no pairs, or chance agreement 1)."""
        n = self.n
        if not n:
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
        kappa = self.kappa
        return kappa is not None and kappa >= self.min_kappa

    def to_dict(self) -> dict[str, Any]:
        accuracy, kappa = self.accuracy, self.kappa
        return {
            "judge": self.judge,
            "pairs": self.n,
            "no_verdict": self.no_verdict,
            "accuracy": None if accuracy is None else round(accuracy, 4),
            "kappa": None if kappa is None else round(kappa, 4),
            "min_kappa": self.min_kappa,
            "trusted": self.trusted,
            "confusion": self.confusion,
        }

    def lines(self) -> list[str]:
        """The calibration as a few lines of text for the terminal summary."""
        accuracy, kappa = self.accuracy, self.kappa
        status = "trusted" if self.trusted else "UNTRUSTWORTHY"
        head = (
            f"judge {self.judge} vs human labels: n={self.n}, accuracy="
            f"{'-' if accuracy is None else f'{accuracy:.1%}'}, kappa="
            f"{'-' if kappa is None else f'{kappa:.2f}'} (min {self.min_kappa}) -> {status}"
        )
        columns = (*self.labels, NO_VERDICT)
        rows = [f"    human \\ judge  {'  '.join(f'{c:>12}' for c in columns)}"]
        for label in self.labels:
            counts = "  ".join(f"{self.confusion[label].get(c, 0):>12}" for c in columns)
            rows.append(f"    {label:<14} {counts}")
        return [head, *rows]


def calibrate(
    pairs: Iterable[tuple[str, str | None]],
    judge: str,
    labels: Sequence[str],
    min_kappa: float = DEFAULT_MIN_KAPPA,
) -> Calibration:
    """``pairs`` are (human label, judge label or None when the judge gave no verdict)."""
    confusion: dict[str, dict[str, int]] = {label: {} for label in labels}
    for human, verdict in pairs:
        if human not in confusion:
            continue
        column = verdict if verdict in labels else NO_VERDICT
        confusion[human][column] = confusion[human].get(column, 0) + 1
    return Calibration(judge, tuple(labels), confusion, min_kappa)
