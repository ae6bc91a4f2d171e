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
    "Answer": "contract",
    "AgentSpec": "contract",
    "Evaluator": "evaluators",
    "Outcome": "evaluators",
    "TurnRun": "evaluators",
    "code_evaluator": "user_evaluators",
    "llm_evaluator": "user_evaluators",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
