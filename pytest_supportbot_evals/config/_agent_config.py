"""Which agent the run gates and what the plugin needs to know of it, from the ini file.

``evals_agent`` (``module:factory``) names the team's agent; unset, SupportBot (the reference
agent) runs. ``evals_labels`` is its label vocabulary (golden files may declare their own),
``evals_prompts`` the folder of its prompt files, ``evals_tool_spans`` which TOOL spans
``tool_result`` judges. The registry of evaluators is built here, once per run, from the
built-ins and the ``pytest_evals_evaluators`` hook (``pytest_supportbot_evals_evaluators``, its
deprecated name, still works).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.config.options import (
    KNOWN_KEYS,
    NEUTRAL,
    PREFIX,
    ini_file_keys,
    ini_value,
)
from pytest_supportbot_evals.config.spelling import said
from pytest_supportbot_evals.config.vocabulary import Vocabulary
from pytest_supportbot_evals.evaluators.base import EvaluatorError, Registry

#: ``evals_agent`` naming SupportBot, the reference agent, explicitly.
REFERENCE_FACTORY = "pytest_supportbot_evals.run.reference:make_agent"
#: Its path before the plugin's modules were grouped (still accepted).
OLD_REFERENCE_FACTORY = "pytest_supportbot_evals.reference:make_agent"


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
        return project_of(self.factory)


def project_of(factory: str | None) -> str:
    """The Phoenix project of the agent ``evals_agent`` names when none is set: SupportBot's
    (none named, or the reference agent named explicitly), else the agent's top-level module."""
    from evals_core.settings import DEFAULT_PROJECT

    if factory is None or factory in (REFERENCE_FACTORY, OLD_REFERENCE_FACTORY):
        return DEFAULT_PROJECT
    return factory.partition(":")[0].split(".")[0]


def build(pytest_config: Any, root: Path) -> AgentConfig:
    from pytest_supportbot_evals.evaluators import registry as registry_mod
    from pytest_supportbot_evals.run import reference

    ini = pytest_config.getini
    given = _check_ini_keys(pytest_config)
    factory = _text(ini_value(ini, "evals_agent"), "evals_agent") or None
    neutral_only = sorted(k for k in given if k.startswith(NEUTRAL))
    if factory is None and neutral_only:
        raise AgentConfigError(
            f"ini {', '.join(neutral_only)} set, but no evals_agent: the plugin would run "
            "SupportBot, its reference agent, on your goldens (and `record` would write its "
            'calls into your cassettes). Set evals_agent = "module:factory" (docs/gate-your-'
            "own-agent.md); for SupportBot itself, evals_agent = "
            '"pytest_supportbot_evals.run.reference:make_agent".'
        )
    if factory in (REFERENCE_FACTORY, OLD_REFERENCE_FACTORY):
        factory = None  # SupportBot, named explicitly
    if factory is not None:
        _check_importable(factory)
    raw_labels = _labels(ini_value(ini, "evals_labels"))
    labels = tuple(raw_labels) if raw_labels else (reference.LABELS if factory is None else None)
    if raw_labels and len(raw_labels) < 2:
        raise AgentConfigError(
            f"ini {said('evals_labels')}={raw_labels!r}: list at least two labels, "
            "space-separated (e.g. warranty policy other) or as a list."
        )
    prompts = _text(ini_value(ini, "evals_prompts"), "evals_prompts")
    prompt_dir = root / prompts if prompts else None
    if prompt_dir is not None and not prompt_dir.is_dir():
        raise AgentConfigError(
            f"ini {said('evals_prompts')}={prompts!r}: {prompt_dir} is not a folder; "
            "give the folder of the agent's prompt files, relative to the rootdir."
        )
    tool_spans = _text(ini_value(ini, "evals_tool_spans"), "evals_tool_spans") or "*"
    try:
        registered = _registered(pytest_config)
        registry = registry_mod.build(
            tool_spans, reference_agent=factory is None, registered=registered
        )
    except EvaluatorError as exc:
        raise AgentConfigError(f"evaluator registration: {exc}") from None
    return AgentConfig(factory, labels, prompt_dir, tool_spans, registry, tuple(given))


def _text(value: Any, key: str) -> str:
    """A string setting; a TOML list or number where a string belongs is a usage error."""
    if not isinstance(value, str):
        raise AgentConfigError(
            f'ini {said(key)} = {value!r}: give a string (in quotes), e.g. {key} = "...".'
        )
    return value.strip()


def _labels(value: Any) -> list[str]:
    """``evals_labels`` as space-separated words or as a TOML list of strings."""
    if isinstance(value, list):
        if not all(isinstance(x, str) and x.strip() and " " not in x.strip() for x in value):
            raise AgentConfigError(
                f"ini {said('evals_labels')} = {value!r}: list the labels as strings without "
                'spaces, e.g. ["warranty", "policy", "other"].'
            )
        return [x.strip() for x in value]
    return _text(value, "evals_labels").split()


def _registered(pytest_config: Any) -> list[Any]:
    """What the evaluator hooks returned: the neutral ``pytest_evals_evaluators`` and its
    deprecated name (one warning when a conftest still implements the old one)."""
    hook = pytest_config.hook
    registered = list(hook.pytest_evals_evaluators(config=pytest_config))
    legacy = list(hook.pytest_supportbot_evals_evaluators(config=pytest_config))
    if hook.pytest_supportbot_evals_evaluators.get_hookimpls():
        import warnings

        import pytest

        warnings.warn(
            pytest.PytestDeprecationWarning(
                "hook pytest_supportbot_evals_evaluators is deprecated; name it "
                "pytest_evals_evaluators."
            ),
            stacklevel=2,
        )
    return registered + legacy


def _check_importable(path: str) -> None:
    """``module:factory`` names an importable module with that callable: imported now, so that
    a typo is one usage error rather than an error in every golden test."""
    from pytest_supportbot_evals.config.contract import AgentError, load_factory

    try:
        load_factory(path, f"ini {said('evals_agent')}")
    except AgentError as exc:
        raise AgentConfigError(str(exc)) from None


def _check_ini_keys(pytest_config: Any) -> list[str]:
    """The plugin's ini keys the project sets; an unknown ``evals_``/``supportbot_`` key (a typo
    that would silently fall back to a default) is an error naming the closest known one."""
    import difflib

    given = ini_file_keys(getattr(pytest_config, "inipath", None))
    ours = [k for k in given if k.startswith((PREFIX, NEUTRAL))]
    for key in ours:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise AgentConfigError(f"ini {key} is not a setting of the evals plugin{hint}")
    for key in given:  # a misspelt prefix (eval_tool_spans) that pytest does not know either
        if key in ours or _pytest_knows(pytest_config, key):
            continue
        close = difflib.get_close_matches(
            key, sorted(k for k in KNOWN_KEYS if k[:1] == "e"), 1, 0.85
        )
        if close:
            raise AgentConfigError(
                f"ini {key} is not a setting of pytest or of the evals plugin; did you mean "
                f"{close[0]}?"
            )
    return ours


def _pytest_knows(pytest_config: Any, key: str) -> bool:
    try:
        pytest_config.getini(key)
    except ValueError:
        return False
    return True
