"""The agent contract: the smallest thing a team writes to put its agent under the gate.

An agent is a callable ``agent(query, *, session_id=None, seed=None)`` that answers one query and
returns its answer text: a ``str``, or an ``Answer`` (text and, optionally, the label it gave the
query), or any object or mapping with ``response`` and optionally ``label``. ``session_id`` is
given for each turn of a conversation golden (the agent remembers earlier turns of a session);
``seed`` for repetitions (``--evals-repeat``); ``history`` (a list of ``{"role": "user" |
"assistant", "content": str}``) for a golden that gives earlier turns the agent did not write
(passed with its first query). An agent may leave out any of them; goldens that need one error,
naming why.

Everything else is read from the OpenInference spans the agent makes with the tracer provider
the plugin hands its factory (``tracer_provider=``): the AGENT (or root) span is the turn's span,
TOOL and RETRIEVER spans are what the evaluators judge. See README, "Gate your own agent".
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals_core import prompts


class AgentError(ValueError):
    """The agent (or its configuration) does not keep the contract; the message says how."""


@dataclass(frozen=True)
class Answer:
    """What an agent answered: its text, and the label it gave the query (if it labels)."""

    response: str
    label: str | None = None


@dataclass(frozen=True)
class AgentSpec:
    """An agent and what the plugin records about it (fingerprints for baselines and reports)."""

    agent: Callable[..., Any]
    name: str = "agent"
    #: The folder of the agent's prompt files: a changed prompt changes the run's fingerprint,
    #: and a cassette miss names the prompt file of the step whose request changed.
    prompt_dir: Path | None = None
    #: Settings that shape the agent's replies (model budgets, seeds...), for the fingerprint.
    steps: Mapping[str, Any] | None = None
    #: Called with a session id before a conversation golden starts (forget an earlier run).
    reset: Callable[[str], None] | None = None
    #: The prompts' fingerprint, when the agent computes it itself (default: the prompt folder).
    hashes: Callable[[], dict[str, str]] | None = field(default=None, repr=False)

    def prompt_hashes(self) -> dict[str, str]:
        if self.hashes is not None:
            return self.hashes()
        return folder_hashes(self.prompt_dir) if self.prompt_dir else {}

    def prompt_file(self, step: str) -> Path | None:
        """The prompt file of a step (``<prompt dir>/<step>.*``; judges' prompts are the
        plugin's), if there is one."""
        if self.prompt_dir is None or not self.prompt_dir.is_dir():
            return None
        return next(iter(sorted(self.prompt_dir.glob(f"{step}.*"))), None)


def folder_hashes(folder: Path) -> dict[str, str]:
    """``{relative path without suffix: digest}`` of every file in a prompt folder."""
    if not folder.is_dir():
        raise AgentError(f"prompt folder {folder} does not exist; fix the evals_prompts setting.")
    return {
        path.relative_to(folder).with_suffix("").as_posix(): prompts.digest(
            path.read_text(encoding="utf-8").strip()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def read_answer(value: Any) -> Answer:
    """The agent's return value as an ``Answer`` (see the module docstring)."""
    if isinstance(value, Answer):
        return value
    if isinstance(value, str):
        return Answer(value)
    if isinstance(value, Mapping):
        response, label = value.get("response"), value.get("label")
    else:
        response, label = getattr(value, "response", None), getattr(value, "label", None)
    if not isinstance(response, str):
        raise AgentError(
            f"the agent returned {type(value).__name__}, not its answer: return a str, an "
            "Answer(response, label), or an object or mapping with a str 'response'."
        )
    if label is not None and not isinstance(label, str):
        raise AgentError(f"the agent's label is {label!r}; a label is a str (or None).")
    return Answer(response, label)


def call(
    agent: Callable[..., Any],
    query: str,
    session_id: str | None,
    seed: int | None,
    history: list[dict[str, str]] | None = None,
) -> Answer:
    """Ask the agent one query, passing only the keywords it needs (``missing_keywords``)."""
    kwargs: dict[str, Any] = {"history": history} if history else {}
    if session_id is not None:
        kwargs["session_id"] = session_id
    if seed is not None:
        kwargs["seed"] = seed
    return read_answer(agent(query, **kwargs))


def missing_keywords(
    agent: Callable[..., Any], session: bool, seeded: bool, history: bool = False
) -> list[str]:
    """The contract keywords a golden run needs that the agent does not take."""
    try:
        parameters = inspect.signature(agent).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: assume it takes them
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    names = {p.name for p in parameters}
    needed = (["session_id"] if session else []) + (["seed"] if seeded else [])
    needed += ["history"] if history else []
    return [n for n in needed if n not in names]


def load_factory(path: str, setting: str) -> Callable[..., Any]:
    """``module:attribute`` (e.g. ``shopbot.evals:make_agent``) imported, or one clear error."""
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise AgentError(f"{setting}={path!r}: give module:factory, e.g. shopbot.evals:agent.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name  # the module itself (or its package), or something it imports
        if missing and missing != module_name and not module_name.startswith(f"{missing}."):
            raise AgentError(  # the module is there; something it imports is not
                f"{setting}={path!r}: importing {module_name!r} failed: it imports {missing!r}, "
                f"which is not installed ({exc}); install it in this environment."
            ) from None
        raise AgentError(
            f"{setting}={path!r}: cannot import {module_name!r} ({exc}); is it installed, or on "
            "pytest's pythonpath (ini pythonpath = .)?"
        ) from None
    except Exception as exc:  # the module itself fails while importing
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise AgentError(
            f"{setting}={path!r}: importing {module_name!r} failed: {type(exc).__name__}: "
            f"{first}; fix the module (run `python -c 'import {module_name}'` to see where)."
        ) from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise AgentError(f"{setting}={path!r}: {module_name} has no callable {attribute!r}.")
    return factory


def build_agent(factory: Callable[..., Any], tracer_provider: Any) -> AgentSpec:
    """Call the team's factory with the plugin's tracer provider; wrap a plain callable."""
    made = factory(tracer_provider=tracer_provider)
    if isinstance(made, AgentSpec):
        return made
    if not callable(made):
        raise AgentError(
            f"the agent factory {getattr(factory, '__name__', factory)!r} returned "
            f"{type(made).__name__}; return the agent callable (or an AgentSpec)."
        )
    return AgentSpec(made, name=getattr(factory, "__module__", "agent").split(".")[0])
