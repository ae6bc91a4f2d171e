"""What the baseline comparison can detect: the exact binomial tail of the paired test, and the
minimum detectable regression (MDR) of an evaluator from how many paired golden runs it has.

The comparison (``baseline``) is the exact McNemar test: of the discordant pairs (golden runs
that flipped), are there significantly more pass->fail than fail->pass, under a fair coin? With
``d`` pass->fail flips and none the other way the p-value is ``0.5**d``, so no evaluator can be
called ``regressed`` with fewer than ``min_flips(alpha)`` flips (5 at alpha 0.05: 0.5**5 =
0.03125, while 0.5**4 = 0.0625). A flip needs a golden run that passed in the baseline (for a
metric: scored above 0), so an evaluator with fewer such runs cannot be caught regressing even
when it breaks completely; the threshold is then the only thing that can fail it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def binomial_tail(k: int, n: int, p: float = 0.5) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, exactly (``k <= 0``: 1; ``k > n``: 0)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p == 0.5:  # integers throughout: exact, whatever n
        return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n
    return math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def p_value(worse: int, better: int) -> float:
    """One-sided exact McNemar p-value that ``worse`` flips outnumber ``better`` by chance."""
    return binomial_tail(worse, worse + better)


def flips_needed(alpha: float, better: int = 0) -> int:
    """The fewest pass->fail flips that are significant at ``alpha`` alongside ``better``
    fail->pass flips (5 at alpha 0.05 with none; 7 with one; 9 with two)."""
    worse = 1
    while p_value(worse, better) >= alpha:
        worse += 1
    return worse


def min_flips(alpha: float) -> int:
    """``flips_needed(alpha)`` with no improvement alongside: ``floor(log2(1/alpha)) + 1``."""
    return flips_needed(alpha)


@dataclass(frozen=True)
class Detectable:
    """The minimum detectable regression of one evaluator against the baseline.

    ``paired``: golden runs compared (in both runs, not edited; a lost measurement included);
    ``can_drop``: those that passed in the baseline (a metric: scored above 0), the most that
    can flip to a failure; ``goldens``: the fewest pass->fail flips (none the other way) the
    comparison calls ``regressed`` at ``alpha``, ``None`` when even all ``can_drop`` flipping
    could not be.
    """

    paired: int
    can_drop: int
    alpha: float

    @property
    def goldens(self) -> int | None:
        needed = min_flips(self.alpha)
        return needed if self.can_drop >= needed else None

    @property
    def pass_rate(self) -> float | None:
        """The drop in pass rate (a metric: the share of its golden runs) those flips make."""
        return None if self.goldens is None or not self.paired else self.goldens / self.paired

    @property
    def total_breakage_detectable(self) -> bool:
        return self.goldens is not None

    def cell(self) -> str:
        """The summary table's cell: ``5 (10.4%)``, or ``none`` when nothing can be detected."""
        if self.pass_rate is None:
            return "none" if self.paired else "-"
        return f"{self.goldens} ({self.pass_rate:.1%})"

    def describe(self) -> str:
        """``4 paired, 4 passing in the baseline`` (for the warning)."""
        return f"{self.paired} paired, {self.can_drop} passing in the baseline"

    def to_dict(self) -> dict[str, Any]:
        rate = self.pass_rate
        return {
            "paired": self.paired,
            "can_drop": self.can_drop,
            "goldens": self.goldens,
            "pass_rate": None if rate is None else round(rate, 4),
            "alpha": self.alpha,
            "total_breakage_detectable": self.total_breakage_detectable,
        }
