"""Pass rates per evaluator, thresholds, and the gate that decides the session's exit status.

The gate fails when an evaluator's pass rate is below its threshold, or when any case could
not be evaluated at all (a stale cassette, an agent crash): a rate over incomplete data is not
a measurement.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from pytest_supportbot_evals.evaluators.registry import order_key
from pytest_supportbot_evals.run.results import DEFAULT_SUITE, TURN_MARK, CaseResult

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
    #: Golden runs whose cassette missed (stale or missing cassettes): ``errored`` names them too.
    stale: list[str] = field(default_factory=list)
    #: The first line of each errored run's error (cut short).
    why: dict[str, str] = field(default_factory=dict)
    #: Per suite: (golden runs evaluated, golden runs selected); rates over fewer say so.
    scope: dict[str, tuple[int, int]] = field(default_factory=dict)

    def over(self, suite: str) -> str:
        """`` over 14 of 48 selected golden runs (34 not evaluated)`` when figures of ``suite``
        cover only part of what was selected; else ``""``."""
        evaluated, selected = self.scope.get(suite, (0, 0))
        if evaluated >= selected:
            return ""
        return (
            f" over {evaluated} of {selected} selected golden runs "
            f"({selected - evaluated} not evaluated)"
        )

    @property
    def gate(self) -> str:
        failed = any(s.decides and s.status == "fail" for s in self.stats)
        return "fail" if failed or self.errored or self.missing or self.unapplied else "pass"

    def reasons(self) -> list[str]:
        """Why the gate fails, in order of cause: what could not be evaluated first (every
        figure after it covers the rest only), then the thresholds, then unapplied settings."""
        lines = self.not_evaluated()
        lines += [
            f"{s.evaluator} pass rate {s.pass_rate:.1%} ({s.passed:g}/{s.total}) is below its "
            f"threshold {s.threshold:.1%}"
            + (
                " (above 100%: an impossible bar, set to prove the gate fails)"
                if s.threshold > 1
                else ""
            )
            + (f" [{s.suite}]" if s.suite != DEFAULT_SUITE else "")
            + self.over(s.suite)
            for s in self.stats
            if s.decides
            and s.status == "fail"
            and s.pass_rate is not None
            and s.threshold is not None
        ]
        return lines + self.unapplied

    def not_evaluated(self) -> list[str]:
        """The golden runs that could not be evaluated: cassette misses (with the re-record
        command), other errors, runs that gave no result."""
        lines = []
        if self.errored:
            stale = sorted(set(self.stale))
            missed = [r for r in self.errored if _golden_run(r) in set(stale)]
            parts = []
            if missed:
                from pytest_supportbot_evals.recording.cassettes import rerecord_command

                parts.append(
                    f"{', '.join(missed)} (cassette misses: stale or missing cassettes; if "
                    f"the change is intended, re-record them with: {rerecord_command(stale)})"
                )
            parts += [
                f"{r} ({self.why[r]})" if self.why.get(r) else r
                for r in self.errored
                if r not in set(missed)
            ]
            lines.append(
                f"{len(self.errored)} golden run(s) could not be evaluated: {'; '.join(parts)}"
            )
        if self.missing:
            lines.append(self.missing_reason or f"not evaluated: {', '.join(self.missing)}")
        return lines


def _golden_run(run_id: str) -> str:
    """The golden run (its cassette) of a result id: ``conv#2@1`` -> ``conv@1``."""
    head, _, rest = run_id.partition(TURN_MARK)
    repetition = rest.partition("@")[2]
    return head + (f"@{repetition}" if repetition else "")


def parse_thresholds(
    items: Iterable[str], where: str, names: Iterable[str] | None = None
) -> dict[str, float]:
    """``NAME=VALUE`` entries; unknown names and values outside [0, 1.5] are errors (above 1 is
    an impossible bar that always fails: a way to prove in CI that the gate can fail)."""
    if names is None:
        from pytest_supportbot_evals.evaluators.registry import reference_registry

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
        if name == "category" and "label" in known:  # the label evaluator's deprecated name
            import warnings

            warnings.warn(
                f"{where}: threshold 'category' is deprecated; name it 'label'.",
                DeprecationWarning,
                stacklevel=2,
            )
            name = "label"
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
    stale: list[str] = []
    why: dict[str, str] = {}
    scope: dict[str, list[int]] = {}
    for result in results:
        runs = scope.setdefault(result.suite, [0, 0])
        runs[0] += result.error is None
        runs[1] += 1
        if result.error is not None:
            errored.append(result.run_id)
            why[result.run_id] = result.error.strip().partition("\n")[0][:200]
        if result.stale_cassette:
            stale.append(result.golden_run_id)
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
        f"--evals-threshold {name}=... applies to no check of this run: no golden run "
        f"expects {name}"
        for name in sorted(set(cli) - checked)
    ]
    unapplied += [
        f"the evals marker of suite {suite!r} sets a {name} threshold, but no golden "
        f"run of the suite expects {name}: drop the threshold or add the expectation"
        for suite, names in sorted((marker or {}).items())
        for name in sorted(names)
        if not counts.get((suite, name), [0, 0])[1]
    ]
    return GateResult(
        stats,
        sorted(set(errored)),
        unapplied=unapplied,
        stale=sorted(set(stale)),
        why=why,
        scope={suite: (done, ran) for suite, (done, ran) in scope.items()},
    )
