"""The two spellings of every setting: ``evals_*`` and its deprecated ``supportbot_*`` alias.

``reconcile`` folds what a run gave under the old names into the neutral ones (one warning each)
and refuses a setting given both ways with different values; ``said`` and ``speak`` word hints
and errors in the spelling the run's user used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_supportbot_evals.config.options import (
    FLAGS,
    INI_NAMES,
    NEUTRAL,
    PREFIX,
    given,
    neutral,
    old,
)

#: The deprecated spellings this run used (neutral name -> old one), and whether it used only
#: deprecated ones; set once per run by ``reconcile``, read by ``said`` when wording a hint.
_SPOKEN: dict[str, Any] = {"used": {}, "old_only": False}


class SpellingError(ValueError):
    """A setting given under both spellings with different values."""


def reconcile(
    config: pytest.Config, ini_keys: list[str], environ: Mapping[str, str] | None = None
) -> list[str]:
    """Fold each deprecated flag into its neutral one, refuse a setting given both ways with
    different values, and return one deprecation message per old spelling used (``ini_keys``:
    the plugin's keys the ini file sets)."""
    if environ is None:
        import os

        environ = os.environ
    used: dict[str, str] = {}
    neutral_used = any(k.startswith(NEUTRAL) for k in ini_keys)
    option = config.option
    for flag, _, _ in FLAGS:
        dest = flag.removeprefix("--").replace("-", "_")
        new, legacy = getattr(option, dest, None), getattr(option, old(dest), None)
        if not given(legacy):
            neutral_used = neutral_used or given(new)
            continue
        if given(new) and new != legacy:
            raise SpellingError(
                f"{flag}={_show(new)} and {old(flag)}={_show(legacy)} disagree; give only "
                f"{flag} ({old(flag)} is its deprecated name)."
            )
        setattr(option, dest, legacy)
        used[flag] = old(flag)
    overrides = [o.partition("=")[0] for o in getattr(option, "override_ini", None) or ()]
    for key in overrides:  # ``-o supportbot_x=...`` overrides the file's ``evals_x`` too
        if key.startswith(PREFIX) and neutral(key) in INI_NAMES and neutral(key) not in overrides:
            config._inicache[neutral(key)] = config.getini(key)
            used[neutral(key)] = key
    for key in ini_keys:
        if key in overrides or neutral(key) in overrides:
            continue
        if not key.startswith(PREFIX):
            continue
        new_key = neutral(key)
        new, legacy = config.getini(new_key), config.getini(key)
        if new_key in ini_keys and new != legacy:
            raise SpellingError(
                f"ini {new_key}={_show(new)} and {key}={_show(legacy)} disagree; set only "
                f"{new_key} ({key} is its deprecated name)."
            )
        used[new_key] = key
    _SPOKEN.update(used=used, old_only=bool(used) and not neutral_used)
    notes = [f"{legacy} is deprecated; use {new}." for new, legacy in used.items()]
    return notes + [
        f"environment variable {name} is deprecated; use {name.replace('SUPPORTBOT_', 'EVALS_')}."
        for name in sorted(environ)
        if name.startswith("SUPPORTBOT_") and name.removeprefix("SUPPORTBOT_") in ENV_SETTINGS
    ]


#: The run's settings that may come from ``EVALS_X`` variables (``SUPPORTBOT_X``: deprecated).
ENV_SETTINGS = frozenset(
    "MODEL JUDGE_MODEL TEMPERATURE SEED MAX_TOKENS CLASSIFY_MAX_TOKENS CLASSIFY_TOP_LOGPROBS "
    "JUDGE_MAX_TOKENS TOP_K TIMEOUT MAX_RETRIES STRUCTURED_OUTPUT PHOENIX_BUDGET".split()
)


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, bool) else "set"


def said(name: str) -> str:
    """A setting as this run's user spells it: the deprecated name if that is what they used
    (or if they used deprecated names only), else the neutral one (``name``: either spelling)."""
    name = neutral(name)
    used = _SPOKEN["used"]
    if name in used:
        return used[name]
    return old(name) if _SPOKEN["old_only"] else name


def speak(text: str) -> str:
    """A message with every setting it names in the spelling this run's user used (``said``)."""
    import re

    if not _SPOKEN["used"] and not _SPOKEN["old_only"]:
        return text
    names = {f for f, _, _ in FLAGS} | INI_NAMES
    pattern = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({pattern})(?![\w-])", lambda m: said(m.group(1)), text)
