"""The registry of a run: the built-in evaluators, the agent's own, and the team's.

Built once per run from the configuration (``build``); SupportBot's registry is the default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from pytest_supportbot_evals.evaluators._builtins import builtin_evaluators
from pytest_supportbot_evals.evaluators.base import Evaluator, EvaluatorError, Registry


def build(
    tool_spans: str = "*",
    *,
    reference_agent: bool = True,
    registered: Iterable[Any] = (),
) -> Registry:
    """The built-ins, SupportBot's own evaluators when it is the agent, then the evaluators the
    ``pytest_evals_evaluators`` hook returned (each a list of ``Evaluator``)."""
    from pytest_supportbot_evals.run import reference

    label, *others = builtin_evaluators(tool_spans)
    own = reference.evaluators() if reference_agent else []
    evaluators: list[Evaluator] = [label, *own, *others]  # the agent's own after its label
    for returned in registered:
        if returned is None:
            continue
        if isinstance(returned, Evaluator) or not isinstance(returned, (list, tuple)):
            raise EvaluatorError(
                "pytest_evals_evaluators must return a list of evaluators, got "
                f"{type(returned).__name__}."
            )
        evaluators += returned
    return Registry(evaluators)


@functools.cache
def reference_registry() -> Registry:
    """SupportBot's registry (the default agent, every TOOL span)."""
    return build()


def order_key(name: str) -> tuple[int, str]:
    """Report order: the built-ins (and SupportBot's) first, in registry order; then the
    others, by name."""
    return reference_registry().order(name), name
