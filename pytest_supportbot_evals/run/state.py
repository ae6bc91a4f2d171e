"""The plugin's per-run state in pytest's stash, shared by its hooks and fixtures.

Imports only pytest: the plugin's hooks and fixtures import it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_supportbot_evals.run.session import EvalSession

MARKER = "evals"
#: The marker's deprecated name, still honoured (one warning per run).
OLD_MARKER = "supportbot_eval"
SESSION_KEY = pytest.StashKey["EvalSession"]()
USAGE_ERRORS = pytest.StashKey[list[str]]()
#: nodeid -> (suite, result ids) of every selected golden test, for naming runs with no result.
GOLDEN_ITEMS = pytest.StashKey[dict[str, tuple[str, list[str]]]]()
MISSED = pytest.StashKey[str]()
#: Set when a test was parametrized over the configured goldens (``--evals-goldens``/ini).
GOLDENS_USED = pytest.StashKey[bool]()


def eval_session(config: pytest.Config) -> EvalSession:
    """The session's collector, built from the configuration on first use (a bad setting is a
    usage error)."""
    if SESSION_KEY not in config.stash:
        from evals_core.settings import SettingsError
        from pytest_supportbot_evals.config.eval_config import ConfigError, build
        from pytest_supportbot_evals.run.session import EvalSession
        from pytest_supportbot_evals.verdict.gate import ThresholdError

        try:
            config.stash[SESSION_KEY] = EvalSession(build(config))
        except (ConfigError, ThresholdError, SettingsError) as exc:
            from pytest_supportbot_evals.config.spelling import speak

            raise pytest.UsageError(speak(f"evals: {exc}")) from None
    return config.stash[SESSION_KEY]


def suite_of(node: pytest.Item) -> str:
    """The suite a golden test reports to: its marker's ``suite=``, or the default suite."""
    from pytest_supportbot_evals.run.results import DEFAULT_SUITE

    marker = eval_marker(node)
    return (marker.kwargs.get("suite") if marker else None) or DEFAULT_SUITE


def eval_marker(node: pytest.Item) -> pytest.Mark | None:
    """The test's ``evals`` marker, or its deprecated ``supportbot_eval`` one (with a warning)."""
    marker = node.get_closest_marker(MARKER)
    if marker is not None:
        return marker
    marker = node.get_closest_marker(OLD_MARKER)
    if marker is not None:
        deprecated(node.config, f"marker {OLD_MARKER}", f"marker {MARKER}")
    return marker


def deprecated(config: pytest.Config, old: str, new: str) -> None:
    """One deprecation warning per old name and run."""
    import warnings

    seen = config.stash.setdefault(WARNED, set())
    if old not in seen:
        seen.add(old)
        warnings.warn(
            pytest.PytestDeprecationWarning(f"{old} is deprecated; use {new}."), stacklevel=3
        )


WARNED = pytest.StashKey[set[str]]()
