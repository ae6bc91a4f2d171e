"""The ``supportbot_eval`` marker's arguments, validated: a setting that cannot apply is an error.

An unknown keyword (a typo such as ``threshold=``), a positional argument, a value of the wrong
type or a malformed threshold is a usage error naming the test and listing what is accepted,
never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.verdict.gate import ThresholdError, parse_thresholds

ACCEPTED = ("goldens", "thresholds", "suite", "cassettes")
SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class MarkerError(ValueError):
    """The marker's arguments are invalid; the message names the test and the argument."""


@dataclass(frozen=True)
class MarkerOptions:
    goldens: tuple[str, ...] | None = None
    thresholds: dict[str, float] | None = None
    suite: str | None = None
    cassettes: str | None = None


def marker_options(
    marker: Any, where: str, evaluators: Iterable[str] | None = None
) -> MarkerOptions:
    """Validate a ``supportbot_eval`` marker (``None``: no marker, every default) against the
    run's ``evaluators`` (names; default SupportBot's)."""
    if marker is None:
        return MarkerOptions()
    if marker.args:
        raise MarkerError(
            f"{where}: positional arguments {marker.args!r} are not accepted; use keywords "
            f"{', '.join(ACCEPTED)}."
        )
    unknown = sorted(set(marker.kwargs) - set(ACCEPTED))
    if unknown:
        raise MarkerError(
            f"{where}: unknown argument(s) {', '.join(unknown)}; accepted: {', '.join(ACCEPTED)}."
        )
    kwargs = marker.kwargs
    return MarkerOptions(
        goldens=_paths(kwargs.get("goldens"), f"{where}: goldens"),
        thresholds=_thresholds(kwargs.get("thresholds"), where, evaluators),
        suite=_suite(kwargs.get("suite"), where),
        cassettes=_path(kwargs.get("cassettes"), f"{where}: cassettes"),
    )


def _path(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value).strip():
        raise MarkerError(f"{where}={value!r} must be a path (str or Path) relative to the test.")
    return str(value)


def _paths(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str | Path) else value
    if not isinstance(items, list | tuple) or not items:
        raise MarkerError(f"{where}={value!r} must be a path or a non-empty list of paths.")
    return tuple(str(_path(item, where)) for item in items)


def _thresholds(
    value: Any, where: str, evaluators: Iterable[str] | None
) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MarkerError(
            f"{where}: thresholds={value!r} must be a mapping such as {{'tool_result': 0.9}}."
        )
    try:
        items = [f"{k}={v}" for k, v in value.items()]
        return parse_thresholds(items, f"{where}: thresholds", evaluators)
    except ThresholdError as exc:
        raise MarkerError(str(exc)) from None


def _suite(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SUITE_NAME.match(value):
        raise MarkerError(
            f"{where}: suite={value!r} must be a name of letters, digits, '-', '_' or '.'."
        )
    return value
