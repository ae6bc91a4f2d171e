"""The hook a team implements (in its ``conftest.py`` or a plugin) to add evaluators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_supportbot_evals.evaluators.base import Evaluator


def pytest_evals_evaluators(config: Any) -> list[Evaluator]:  # type: ignore[empty-body]
    """Return the evaluators to register: ``code_evaluator(...)`` and ``llm_evaluator(...)``
    of ``pytest_supportbot_evals``. Every implementation is called once per run; names must be
    unique across them and the built-ins."""


def pytest_supportbot_evals_evaluators(config: Any) -> list[Evaluator]:  # type: ignore[empty-body]
    """Deprecated name of ``pytest_evals_evaluators`` (still called; one warning per run)."""
