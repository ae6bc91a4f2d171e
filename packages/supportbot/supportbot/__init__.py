"""SupportBot: the traced customer-support agent of Phoenix's tracing tutorial.

Exports are resolved lazily so that importing a submodule (the pytest plugin does) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evals_core.settings import Settings, SettingsError
    from supportbot.agent import AgentResult, EmptyQueryError, SupportBot

__all__ = ["AgentResult", "EmptyQueryError", "Settings", "SettingsError", "SupportBot"]
_HOMES = {
    "AgentResult": "supportbot.agent",
    "EmptyQueryError": "supportbot.agent",
    "SupportBot": "supportbot.agent",
    "Settings": "evals_core.settings",
    "SettingsError": "evals_core.settings",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'supportbot' has no attribute {name!r}")
