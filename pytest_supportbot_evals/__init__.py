"""pytest-supportbot-evals: LLM evaluations of a traced agent as pytest regression tests.

The pytest plugin is ``pytest_supportbot_evals.plugin`` (entry point ``supportbot_evals``). The
public names below are what a team uses to gate its own agent (README, "Gate your own agent");
they are imported on first use, so that installing the plugin costs other pytest runs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "Answer": "config.contract",
    "AgentSpec": "config.contract",
    "Evaluator": "evaluators.base",
    "Outcome": "evaluators.base",
    "TurnRun": "evaluators.base",
    "code_evaluator": "evaluators.user",
    "llm_evaluator": "evaluators.user",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
