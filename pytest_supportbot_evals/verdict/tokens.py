"""Tokens and cost, from the ``usage`` of the LLM replies a golden run used (replayed or recorded).

Per step (the agent's steps, and ``judge:<evaluator>``), per golden turn and per suite, the agent's
and the judges' apart; a price table (ini ``evals_prices``: ``MODEL=INPUT,OUTPUT`` in USD per
million tokens) turns them into cost; and a baseline rule (ini ``evals_max_token_growth``) fails
the gate when a suite's agent tokens grow by more than a fraction, so that prompt bloat is caught
like a quality drop. Per step, the agent's completion tokens are gated too (ini
``evals_max_completion_growth``): a prompt that makes answers longer can hide in the sum of
prompt and completion tokens. An answer cut at its ``max_tokens`` (``finish_reason: length``)
is counted per step (``cut``); one that was complete in the baseline fails the gate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_supportbot_evals.run import steps

#: Fields of one step's (or one total's) usage.
FIELDS = ("prompt", "completion", "calls")


class TokenSettingError(ValueError):
    """A token or price setting cannot be used; the message names it."""


class UsageMeter:
    """The usage of the interactions of an open cassette used since the last ``take``."""

    def __init__(self, use: Any) -> None:
        self._use, self._seen = use, set()

    def take(self) -> dict[str, dict[str, int]]:
        cassette = self._use.cassette
        if cassette is None:
            return {}
        played = {i for i, n in cassette.play_counts.items() if n}
        used = played | set(range(self._use.loaded, len(cassette.data)))  # and recorded now
        new = sorted(used - self._seen)
        self._seen |= set(new)
        return usage_of(cassette.data[i] for i in new)


def usage_of(interactions: Iterable[tuple[Any, Any]]) -> dict[str, dict[str, int]]:
    """``{step: {prompt, completion, calls}}`` of (request, response) pairs."""
    table: dict[str, dict[str, int]] = {}
    for request, response in interactions:
        usage = _usage(response)
        if usage is None:
            continue
        row = table.setdefault(steps.step_of(request), dict.fromkeys(FIELDS, 0))
        row["prompt"] += int(usage.get("prompt_tokens") or 0)
        row["completion"] += int(usage.get("completion_tokens") or 0)
        row["calls"] += 1
        if _finish_reason(response) == "length":
            row["cut"] = row.get("cut", 0) + 1
    return table


def _finish_reason(response: Any) -> str | None:
    data = _body(response)
    choices = data.get("choices") if isinstance(data, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    return first.get("finish_reason") if isinstance(first, dict) else None


def _body(response: Any) -> Any:
    body = (response or {}).get("body", {}).get("string") if isinstance(response, dict) else None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _usage(response: Any) -> dict[str, Any] | None:
    data = _body(response)
    usage = data.get("usage") if isinstance(data, dict) else None
    return usage if isinstance(usage, dict) else None


def split(table: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """``{"agent": totals, "judge": totals}`` of a step table."""
    out = {who: dict.fromkeys(FIELDS, 0) for who in ("agent", "judge")}
    for step, row in table.items():
        who = "agent" if steps.judged_by(step) is None else "judge"
        for key in FIELDS:
            out[who][key] += int(row.get(key, 0))
    return out


def total(row: Mapping[str, int]) -> int:
    """Prompt and completion tokens of a usage row."""
    return int(row["prompt"]) + int(row["completion"])


def add(tables: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for table in tables:
        for step, row in table.items():
            into = total.setdefault(step, dict.fromkeys(FIELDS, 0))
            for key, value in row.items():  # FIELDS, and ``cut`` where answers were cut
                into[key] = into.get(key, 0) + int(value)
    return dict(sorted(total.items()))


def parse_prices(lines: Sequence[str], where: str) -> dict[str, tuple[float, float]]:
    """``MODEL=INPUT,OUTPUT`` lines (USD per million prompt / completion tokens)."""
    prices = {}
    for line in (raw.strip() for raw in lines):
        if not line:
            continue
        model, sep, rest = line.partition("=")
        parts = rest.split(",")
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            values = ()
        if not sep or not model.strip() or len(values) != 2 or min(values) < 0:
            raise TokenSettingError(
                f"{where}: {line!r} is not MODEL=INPUT,OUTPUT (USD per million prompt and "
                "completion tokens), e.g. gpt-4o-mini=0.15,0.60."
            )
        prices[model.strip()] = (values[0], values[1])
    return prices


def cost(totals: Mapping[str, int], price: tuple[float, float] | None) -> float | None:
    if price is None:
        return None
    return (totals["prompt"] * price[0] + totals["completion"] * price[1]) / 1_000_000


def suites(results: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per suite: ``steps`` (the step table) and ``agent``/``judge`` totals, over the golden runs
    that were evaluated (one that errored, e.g. on a cassette miss, used only part of its calls)."""
    by_suite: dict[str, list[Any]] = {}
    for r in results:
        if r.tokens and r.error is None:
            by_suite.setdefault(r.suite, []).append(r.tokens)
    out = {}
    for suite, tables in sorted(by_suite.items()):
        table = add(tables)
        out[suite] = {"steps": table, **split(table)}
    return out


def agent_by_run(results: Sequence[Any]) -> dict[str, dict[str, int]]:
    """Per suite, each evaluated golden run's agent tokens (``{suite: {run id: tokens}}``)."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        if r.tokens and r.error is None:
            out.setdefault(r.suite, {})[r.run_id] = total(split(r.tokens)["agent"])
    return out


def agent_steps_by_run(results: Sequence[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per suite, each golden run's agent steps: ``{run id: {step: {completion, cut}}}``."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in results:
        steps_of = {
            step: {"completion": int(row.get("completion", 0)), "cut": int(row.get("cut", 0))}
            for step, row in (r.tokens or {}).items()
            if steps.judged_by(step) is None
        }
        if steps_of:
            out.setdefault(r.suite, {})[r.run_id] = steps_of
    return out


def growth(
    baseline: Mapping[str, Any],
    results: Sequence[Any],
    limit: float | None,
    completion_limit: float | None = None,
) -> tuple[list[str], list[str]]:
    """(reasons the gate fails, notes): each suite's agent tokens against the baseline's, over
    the golden runs both have (a narrowed run, or new goldens, compare like for like); then each
    agent step's completion tokens, and answers cut at their ``max_tokens`` (``step_growth``)."""
    failures, notes = [], []
    for suite, now in agent_by_run(results).items():
        before = (baseline.get(suite) or {}).get("runs")
        if not before:
            notes.append(f"{suite}: the baseline has no token figures; write it anew to gate them")
            continue
        paired = sorted(set(before) & set(now))
        if not paired:
            continue
        old, new = sum(before[r] for r in paired), sum(now[r] for r in paired)
        change = (new - old) / old if old else 0.0
        text = (
            f"{suite}: agent tokens {old:,} -> {new:,} ({change:+.1%}) over {len(paired)} golden "
            "run(s) also in the baseline"
        )
        if limit is not None and change > limit:
            failures.append(f"{text}, over the limit of +{limit:.0%} (evals_max_token_growth)")
        elif abs(change) > 0.001:
            notes.append(text)
    grown, step_notes = step_growth(baseline, results, completion_limit)
    return failures + grown, notes + step_notes


def step_growth(
    baseline: Mapping[str, Any], results: Sequence[Any], limit: float | None
) -> tuple[list[str], list[str]]:
    """Per suite and agent step: completion tokens against the baseline's (the same golden
    runs), over ``limit`` fails; an answer cut at ``max_tokens`` that was complete in the
    baseline fails (every cut answer is counted in the token summary: ``summary_lines``)."""
    failures, notes = [], []
    for suite, now in agent_steps_by_run(results).items():
        if not (baseline.get(suite) or {}).get("runs"):
            continue  # no token figures at all: said by ``growth``
        before = (baseline.get(suite) or {}).get("steps_by_run")
        if before is None:
            notes.append(
                f"{suite}: the baseline has no per-step completion figures (written by an older "
                "version); write it anew with --evals-update-baseline to gate completion tokens "
                "per step and cut answers"
            )
            continue
        paired = [(r, step) for r in sorted(set(before) & set(now)) for step in now[r]]
        paired = [(r, step) for r, step in paired if step in before[r]]
        newly = sorted(f"{r} ({s})" for r, s in paired if now[r][s]["cut"] > before[r][s]["cut"])
        if newly:
            failures.append(
                f"{suite}: {len(newly)} answer(s) now cut at max_tokens (finish_reason length), "
                f"complete in the baseline: {', '.join(newly[:10])}; shorten the answers or "
                "raise the step's max_tokens (and re-record)"
            )
        for step in sorted({s for _, s in paired}):
            runs = [r for r, s in paired if s == step]
            old = sum(before[r][step]["completion"] for r in runs)
            new = sum(now[r][step]["completion"] for r in runs)
            change = (new - old) / old if old else 0.0
            text = (
                f"{suite}: {step} completion tokens {old:,} -> {new:,} ({change:+.1%}) over "
                f"{len(runs)} golden run(s) also in the baseline"
            )
            if limit is not None and change > limit:
                failures.append(
                    f"{text}, over the limit of +{limit:.0%} (evals_max_completion_growth)"
                )
            elif abs(change) > 0.001:
                notes.append(text)
    return failures, notes


def priced(
    results: Sequence[Any],
    prices: Mapping[str, Sequence[float]],
    agent_model: str,
    judge_model: str,
) -> dict[str, dict[str, Any]]:
    """Per suite: the step table, agent and judge totals, each with its cost in USD (``None``
    when the price table has no entry for its model)."""
    out = {}
    for suite, row in suites(results).items():
        priced_row: dict[str, Any] = {"steps": row["steps"]}
        for who, model in (("agent", agent_model), ("judge", judge_model)):
            price = prices.get(model)
            usd = cost(row[who], (price[0], price[1]) if price else None)
            priced_row[who] = {**row[who], "model": model, "cost_usd": usd}
        out[suite] = priced_row
    return out


def summary_lines(table: Mapping[str, Mapping[str, Any]], default_suite: str) -> list[str]:
    """``tokens: agent 38,210 (35,000 prompt + 3,210 completion, 96 calls, $0.0061); judges
    ...`` per suite."""
    lines = []
    for suite, row in table.items():
        parts = []
        for who, name in (("agent", "agent"), ("judge", "judges")):
            r = row[who]
            usd = "unpriced" if r["cost_usd"] is None else f"${r['cost_usd']:.4f}"
            parts.append(
                f"{name} {total(r):,} ({r['prompt']:,} prompt + "
                f"{r['completion']:,} completion, {r['calls']} calls, {usd})"
            )
        cut = {
            step: r["cut"]
            for step, r in row.get("steps", {}).items()
            if r.get("cut") and steps.judged_by(step) is None
        }
        if cut:  # answers cut at max_tokens: named in every run (the report has them per case)
            listed = ", ".join(f"{n} {step}" for step, n in cut.items())
            parts.append(f"answers cut at max_tokens: {listed}")
        label = "tokens" if suite == default_suite else f"{suite} tokens"
        lines.append(f"{label}: {'; '.join(parts)}")
    return lines
