"""Pass rates per evaluator, thresholds, and the gate that decides the session's exit status.

The gate fails when an evaluator's pass rate is below its threshold, or when any case could
not be evaluated at all (a stale cassette, an agent crash): a rate over incomplete data is not
a measurement.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from pytest_supportbot_evals.registry import order_key
from pytest_supportbot_evals.results import DEFAULT_SUITE, CaseResult

#: Above 1 no pass rate can reach the bar: allowed, to prove in CI that the gate can fail.
MAX_THRESHOLD = 1.5


class ThresholdError(ValueError):
    """A threshold setting is malformed; the message names the setting."""


@dataclass(frozen=True)
class EvaluatorStat:
    suite: str
    evaluator: str
    #: Checks passed (a metric: the sum of its values, so that passed/total is its mean).
    passed: float
    total: int
    threshold: float | None
    #: The evaluator is an LLM judge that disagrees with the human labels: its row is shown,
    #: but does not decide the gate (unless judges are gated strictly).
    advisory: bool = False

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.total if self.total else None

    @property
    def status(self) -> str:
        if self.threshold is None:
            return "info"
        if self.total == 0:
            return "no checks"
        return "pass" if (self.pass_rate or 0.0) >= self.threshold else "fail"

    @property
    def decides(self) -> bool:
        """Whether this row's threshold takes part in the gate."""
        return self.status in ("pass", "fail") and not self.advisory

    def to_dict(self) -> dict[str, object]:
        rate = self.pass_rate
        return {
            "suite": self.suite,
            "evaluator": self.evaluator,
            "passed": self.passed,
            "total": self.total,
            "pass_rate": None if rate is None else round(rate, 4),
            "threshold": self.threshold,
            "status": self.status,
            "advisory": self.advisory,
        }


@dataclass(frozen=True)
class GateResult:
    stats: list[EvaluatorStat]
    errored: list[str]
    #: Selected golden runs that gave no result at all, and why (see ``coverage``).
    missing: list[str] = field(default_factory=list)
    missing_reason: str = ""
    #: Settings that applied to nothing (e.g. a command-line threshold no case checks).
    unapplied: list[str] = field(default_factory=list)

    @property
    def gate(self) -> str:
        failed = any(s.decides and s.status == "fail" for s in self.stats)
        return "fail" if failed or self.errored or self.missing or self.unapplied else "pass"

    def reasons(self) -> list[str]:
        lines = [
            f"{s.evaluator} pass rate {s.pass_rate:.1%} ({s.passed:g}/{s.total}) is below its "
            f"threshold {s.threshold:.1%}"
            + (
                " (above 100%: an impossible bar, set to prove the gate fails)"
                if s.threshold > 1
                else ""
            )
            + (f" [{s.suite}]" if s.suite != DEFAULT_SUITE else "")
            for s in self.stats
            if s.decides
            and s.status == "fail"
            and s.pass_rate is not None
            and s.threshold is not None
        ]
        if self.errored:
            lines.append(
                f"{len(self.errored)} case(s) could not be evaluated: {', '.join(self.errored)}"
            )
        if self.missing:
            lines.append(self.missing_reason or f"not evaluated: {', '.join(self.missing)}")
        lines += self.unapplied
        return lines


def parse_thresholds(
    items: Iterable[str], where: str, names: Iterable[str] | None = None
) -> dict[str, float]:
    """``NAME=VALUE`` entries; unknown names and values outside [0, 1.5] are errors (above 1 is
    an impossible bar that always fails: a way to prove in CI that the gate can fail)."""
    if names is None:
        from pytest_supportbot_evals.registry import reference_registry

        names = reference_registry().names
    known = list(names)
    thresholds: dict[str, float] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise ThresholdError(f"{where}: {item!r} is not NAME=VALUE, e.g. tool_result=0.9.")
        if name not in known:
            raise ThresholdError(
                f"{where}: unknown evaluator {name!r} in {item!r}; use one of {known}."
            )
        try:
            value = float(raw)
        except ValueError:
            raise ThresholdError(f"{where}: {raw.strip()!r} in {item!r} is not a number.") from None
        if not 0.0 <= value <= MAX_THRESHOLD:
            raise ThresholdError(
                f"{where}: {item!r} is out of range; a threshold is a fraction from 0 to 1 "
                f"(0.9 for 90%). Values up to {MAX_THRESHOLD} are accepted as an impossible bar "
                "that always fails the gate."
            )
        thresholds[name] = value
    return thresholds


def compute(
    results: Iterable[CaseResult],
    thresholds: Mapping[str, Mapping[str, float]],
    *,
    advisory: Collection[str] = (),
    marker: Mapping[str, Collection[str]] | None = None,
    cli: Collection[str] = (),
) -> GateResult:
    """Pass rates per (suite, evaluator); ``thresholds`` is keyed by suite.

    ``advisory`` names judges whose rows do not decide the gate. ``marker`` names the thresholds
    a suite's marker sets (shown as a row even when nothing checks them); ``cli`` those given on
    the command line, which fail the gate when no case of the run checks them.
    """
    counts: dict[tuple[str, str], list[float]] = {}
    errored: list[str] = []
    for result in results:
        if result.error is not None:
            errored.append(result.run_id)
        for check in result.checks:
            tally = counts.setdefault((result.suite, check.evaluator), [0, 0])
            tally[0] += check.credit
            tally[1] += 1
    for suite, names in (marker or {}).items():
        for name in names:
            counts.setdefault((suite, name), [0, 0])
    stats = [
        EvaluatorStat(
            suite,
            name,
            passed,
            total,
            thresholds.get(suite, {}).get(name),
            advisory=name in advisory,
        )
        for (suite, name), (passed, total) in sorted(
            counts.items(), key=lambda kv: (kv[0][0], order_key(kv[0][1]))
        )
    ]
    checked = {name for (_, name), (_, total) in counts.items() if total}
    unapplied = [
        f"--supportbot-threshold {name}=... applies to no check of this run: no golden run "
        f"expects {name}"
        for name in sorted(set(cli) - checked)
    ]
    unapplied += [
        f"the supportbot_eval marker of suite {suite!r} sets a {name} threshold, but no golden "
        f"run of the suite expects {name}: drop the threshold or add the expectation"
        for suite, names in sorted((marker or {}).items())
        for name in sorted(names)
        if not counts.get((suite, name), [0, 0])[1]
    ]
    return GateResult(stats, sorted(set(errored)), unapplied=unapplied)
