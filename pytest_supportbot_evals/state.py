"""The plugin's per-run state in pytest's stash, shared by its hooks and fixtures.

Imports only pytest: the plugin's hooks and fixtures import it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_supportbot_evals.session import EvalSession

MARKER = "supportbot_eval"
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
        from pytest_supportbot_evals.config import ConfigError, build
        from pytest_supportbot_evals.gate import ThresholdError
        from pytest_supportbot_evals.session import EvalSession
        from supportbot.settings import SettingsError

        try:
            config.stash[SESSION_KEY] = EvalSession(build(config))
        except (ConfigError, ThresholdError, SettingsError) as exc:
            raise pytest.UsageError(f"evals: {exc}") from None
    return config.stash[SESSION_KEY]


def suite_of(node: pytest.Item) -> str:
    """The suite a golden test reports to: its marker's ``suite=``, or the default suite."""
    from pytest_supportbot_evals.results import DEFAULT_SUITE

    marker = node.get_closest_marker(MARKER)
    return (marker.kwargs.get("suite") if marker else None) or DEFAULT_SUITE
