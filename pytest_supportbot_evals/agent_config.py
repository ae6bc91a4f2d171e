"""Which agent the run gates and what the plugin needs to know of it, from the ini file.

``evals_agent`` (``module:factory``) names the team's agent; unset, SupportBot (the reference
agent) runs. ``evals_labels`` is its label vocabulary (golden files may declare their own),
``evals_prompts`` the folder of its prompt files, ``evals_tool_spans`` which TOOL spans
``tool_result`` judges. The registry of evaluators is built here, once per run, from the
built-ins and the ``pytest_supportbot_evals_evaluators`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.evaluators import EvaluatorError, Registry
from pytest_supportbot_evals.options import ini_value, neutral
from pytest_supportbot_evals.vocabulary import Vocabulary


class AgentConfigError(ValueError):
    """An agent setting cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class AgentConfig:
    #: ``module:factory`` of the team's agent; ``None``: SupportBot.
    factory: str | None
    labels: tuple[str, ...] | None
    prompt_dir: Path | None
    tool_spans: str
    registry: Registry

    @property
    def reference(self) -> bool:
        return self.factory is None

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.of(self.registry, self.labels)

    def default_project(self) -> str:
        """The Phoenix project when none is set: SupportBot's, else the agent's module name."""
        from supportbot.settings import DEFAULT_PROJECT

        if self.factory is None:
            return DEFAULT_PROJECT
        return self.factory.partition(":")[0].split(".")[0]


def build(pytest_config: Any, root: Path) -> AgentConfig:
    from pytest_supportbot_evals import reference
    from pytest_supportbot_evals import registry as registry_mod

    ini = pytest_config.getini
    factory = ini_value(ini, "supportbot_agent").strip() or None
    if factory is not None:
        _check_importable(factory)
    raw_labels = ini_value(ini, "supportbot_labels").split()
    labels = tuple(raw_labels) if raw_labels else (reference.LABELS if factory is None else None)
    if raw_labels and len(raw_labels) < 2:
        raise AgentConfigError(
            f"ini {neutral('supportbot_labels')}={raw_labels!r}: list at least two labels, "
            "space-separated (e.g. warranty policy other)."
        )
    prompts = ini_value(ini, "supportbot_prompts").strip()
    prompt_dir = root / prompts if prompts else None
    if prompt_dir is not None and not prompt_dir.is_dir():
        raise AgentConfigError(
            f"ini {neutral('supportbot_prompts')}={prompts!r}: {prompt_dir} is not a folder; "
            "give the folder of the agent's prompt files, relative to the rootdir."
        )
    tool_spans = ini_value(ini, "supportbot_tool_spans").strip() or "*"
    try:
        registered = pytest_config.hook.pytest_supportbot_evals_evaluators(config=pytest_config)
        registry = registry_mod.build(
            tool_spans, reference_agent=factory is None, registered=registered
        )
    except EvaluatorError as exc:
        raise AgentConfigError(f"evaluator registration: {exc}") from None
    return AgentConfig(factory, labels, prompt_dir, tool_spans, registry)


def _check_importable(path: str) -> None:
    """``module:factory`` names a module that exists (imported only when the agent is needed)."""
    import importlib.util

    module, sep, attribute = path.partition(":")
    try:
        found = bool(sep and attribute and module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise AgentConfigError(
            f"ini {neutral('supportbot_agent')}={path!r}: give module:factory of an importable "
            "module (e.g. shopbot.evals:agent); is it installed, or on pytest's pythonpath "
            "(ini pythonpath = .)?"
        )
