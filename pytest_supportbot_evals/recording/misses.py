"""Why a replayed request missed its cassette: whose request it was, what changed (a diff of the
prompt), which setting to fix when only settings differ, and the re-record command."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.recording.cassettes import (
    CassetteUse,
    canonical_body,
    rerecord_command,
)
from pytest_supportbot_evals.run.steps import step_of


def explain_miss(
    use: CassetteUse, case_id: str, prompt_file: Callable[[str], Path | None] | None = None
) -> str:
    """Which request missed, whose it was, what changed, and how to re-record it.
    ``prompt_file`` finds the prompt file behind a step (``runner.Runner.prompt_file``)."""
    request = use.misses[0]
    step = step_of(request)
    lines = [f"Cassette miss in golden {case_id!r}: the {step} request is not in {use.path}."]
    candidates = _candidates(use, request)
    prompt = _shown(prompt_file(step)) if prompt_file else None
    if prompt:
        lines.append(f"Its prompt file is {prompt}.")
    if not use.path.exists():
        lines.append("The cassette does not exist yet.")
    elif candidates:
        old = candidates[0]
        old_step = step_of(old, "?")
        lines.append(f"Closest recorded request ({old_step}), what changed (- recorded, + now):")
        lines.extend(
            "    " + line for line in _diff(old, request) or ["(bodies differ only in form)"]
        )
        lines += _settings_hint(old.body, request.body)
    else:
        lines.append(f"No recorded request to {request.method} {request.path} is left to play.")
    action = "Record it" if not use.path.exists() else "If the change is intended, re-record"
    lines.append(f"{action}: {rerecord_command([case_id])}")
    return "\n".join(lines)


def _diff(old: Any, request: Any) -> list[str]:
    diff = difflib.unified_diff(
        render_body(old.body), render_body(request.body), "recorded", "now", n=2, lineterm=""
    )
    return list(diff)[2:]


def summarize_miss(
    use: CassetteUse, prompt_file: Callable[[str], Path | None] | None = None
) -> dict[str, Any]:
    """What a miss changed, to group misses that share it: the step, its prompt file and the
    changed lines of the closest recorded request (``[]``: no recorded request to compare)."""
    request = use.misses[0]
    step = step_of(request)
    candidates = _candidates(use, request) if use.path.exists() else []
    changed = [
        line
        for line in (_diff(candidates[0], request) if candidates else [])
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return {
        "step": step,
        "prompt": (_shown(prompt_file(step)) if prompt_file else None) or "",
        "changed": changed,
        "cassette_exists": use.path.exists(),
    }


def signature(miss: dict[str, Any]) -> str:
    """Misses with the same signature changed the same thing (e.g. one prompt edit)."""
    return json.dumps([miss.get("step"), miss.get("prompt"), miss.get("changed")])


def grouped_lines(results: Sequence[Any]) -> list[str]:
    """The cassette misses of a run grouped by what changed: each change shown once, with the
    golden runs it broke (a prompt edit misses every golden that sends the prompt)."""
    groups: dict[str, list[Any]] = {}
    for r in results:
        if r.stale_cassette and r.miss:
            groups.setdefault(signature(r.miss), []).append(r)
    lines = []
    for members in groups.values():
        miss = members[0].miss
        ids = sorted({r.golden_run_id for r in members})
        where = f" (prompt file {miss['prompt']})" if miss.get("prompt") else ""
        if not miss.get("cassette_exists", True):
            lines.append(f"cassettes not recorded yet ({len(ids)}): {', '.join(ids)}")
            continue
        lines.append(
            f"cassette misses: the {miss['step']} request{where} changed the same way in "
            f"{len(ids)} golden run(s): {', '.join(ids)}"
        )
        shown = miss.get("changed") or ["(no recorded request of that kind to compare)"]
        lines += [f"    {line}" for line in shown[:MAX_CHANGED]]
        if len(shown) > MAX_CHANGED:
            lines.append(f"    ... {len(shown) - MAX_CHANGED} more changed line(s)")
    return lines


#: Changed lines shown per group of misses in the summary (each test shows its whole diff).
MAX_CHANGED = 20

#: Request fields that come from settings, not from prompts or goldens.
SETTING_FIELDS = {"model": "evals_model", "max_tokens": "the ini's max-token budgets"}


def _settings_hint(recorded: Any, now: Any) -> list[str]:
    """When only settings differ (model, token budget), the fix is usually the ini, not a new
    recording: say which setting the cassettes were recorded with."""
    old, new = canonical_body(recorded), canonical_body(now)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    if not changed or not changed <= set(SETTING_FIELDS):
        return []
    named = ", ".join(f"{k} {old.get(k)!r} ({SETTING_FIELDS[k]})" for k in sorted(changed))
    return [
        f"Only settings differ: the cassette was recorded with {named}. If you did not mean to "
        "change them, set them in [tool.pytest.ini_options] to the recorded values instead."
    ]


def _shown(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _candidates(use: CassetteUse, request: Any) -> list[Any]:
    c = use.cassette
    if c is None:
        return []
    same = [
        (i, r)
        for i, (r, _) in enumerate(c.data)
        if r.method == request.method and r.path == request.path
    ]
    unplayed = [r for i, r in same if not c.play_counts[i]]
    return unplayed or [r for _, r in same]


def render_body(body: Any) -> list[str]:
    """A request body as lines a person can diff: one field per line, prompts unfolded."""
    data = canonical_body(body)
    if not isinstance(data, dict):
        return str(data).splitlines()
    lines: list[str] = []
    for key, value in sorted(data.items()):
        if key == "messages" and isinstance(value, list):
            for i, message in enumerate(value):
                content = message.get("content") if isinstance(message, dict) else message
                role = message.get("role", "?") if isinstance(message, dict) else "?"
                lines.append(f"messages[{i}] ({role}):")
                lines.extend(f"  {part}" for part in str(content).splitlines())
        else:
            lines.append(f"{key}: {json.dumps(value, sort_keys=True)}")
    return lines
