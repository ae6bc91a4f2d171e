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

from pytest_supportbot_evals.config.options import INI_KEYS, NEUTRAL, PREFIX, ini_value, neutral
from pytest_supportbot_evals.config.vocabulary import Vocabulary
from pytest_supportbot_evals.evaluators.base import EvaluatorError, Registry

#: ``evals_agent`` naming SupportBot, the reference agent, explicitly.
REFERENCE_FACTORY = "pytest_supportbot_evals.run.reference:make_agent"
#: The plugin's ini keys, under both names (a misspelt one is an error, not a silent default).
KNOWN_KEYS = {
    name
    for key in [*(k for k, _, _ in INI_KEYS), "supportbot_thresholds", "supportbot_prices"]
    for name in (key, neutral(key))
}


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
    #: The plugin's keys the project's ini file sets (either name).
    ini_keys: tuple[str, ...] = ()

    @property
    def reference(self) -> bool:
        return self.factory is None

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.of(self.registry, self.labels)

    def default_project(self) -> str:
        """The Phoenix project when none is set: SupportBot's, else the agent's module name."""
        from evals_core.settings import DEFAULT_PROJECT

        if self.factory is None:
            return DEFAULT_PROJECT
        return self.factory.partition(":")[0].split(".")[0]


def build(pytest_config: Any, root: Path) -> AgentConfig:
    from pytest_supportbot_evals.evaluators import registry as registry_mod
    from pytest_supportbot_evals.run import reference

    ini = pytest_config.getini
    given = _check_ini_keys(pytest_config)
    factory = ini_value(ini, "supportbot_agent").strip() or None
    neutral_only = sorted(k for k in given if k.startswith(NEUTRAL))
    if factory is None and neutral_only:
        raise AgentConfigError(
            f"ini {', '.join(neutral_only)} set, but no evals_agent: the plugin would run "
            "SupportBot, its reference agent, on your goldens (and `record` would write its "
            'calls into your cassettes). Set evals_agent = "module:factory" (docs/gate-your-'
            "own-agent.md); for SupportBot itself, evals_agent = "
            '"pytest_supportbot_evals.run.reference:make_agent".'
        )
    if factory == REFERENCE_FACTORY:
        factory = None  # SupportBot, named explicitly
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
    return AgentConfig(factory, labels, prompt_dir, tool_spans, registry, tuple(given))


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


def _check_ini_keys(pytest_config: Any) -> list[str]:
    """The plugin's ini keys the project sets; an unknown ``evals_``/``supportbot_`` key (a typo
    that would silently fall back to a default) is an error naming the closest known one."""
    import difflib

    given = _ini_file_keys(getattr(pytest_config, "inipath", None))
    ours = [k for k in given if k.startswith((PREFIX, NEUTRAL))]
    for key in ours:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise AgentConfigError(f"ini {key} is not a setting of pytest-supportbot-evals{hint}")
    return ours


def _ini_file_keys(path: Path | None) -> list[str]:
    """The keys the project's ini file sets for pytest (``[tool.pytest.ini_options]``, or the
    ``[pytest]``/``[tool:pytest]`` section)."""
    import configparser
    import tomllib

    if path is None or not Path(path).is_file():
        return []
    path = Path(path)
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return list(data.get("tool", {}).get("pytest", {}).get("ini_options", {}))
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        section = next((s for s in ("pytest", "tool:pytest") if parser.has_section(s)), None)
        return list(parser[section]) if section else []
    except (OSError, ValueError, configparser.Error):
        return []  # pytest itself reports an unreadable ini file
