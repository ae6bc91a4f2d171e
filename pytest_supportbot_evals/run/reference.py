"""SupportBot, the reference agent, plugged in through the same contract as any team's agent.

It is the default when no agent is configured (ini ``evals_agent``): an ``AgentSpec`` around
``SupportBot.handle``, its label vocabulary, and ``order_lookup``, its own code evaluator,
registered like any user evaluator.

The one module of the plugin that imports SupportBot's distribution (``supportbot``,
``devservices``), always on first use: the plugin installs and runs without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pytest_supportbot_evals.config.contract import AgentSpec, Answer
from pytest_supportbot_evals.evaluators.base import Evaluator, TurnRun
from pytest_supportbot_evals.evaluators.user import code_evaluator

NAME = "supportbot"
#: SupportBot's labels (``supportbot.classification.CATEGORIES``, literal to stay cheap).
LABELS = ("order_status", "faq")
ORDER_LOOKUP = "order_lookup"
LOOKUP_TOOL = "lookupOrderStatus"


class ReferenceAgentMissing(RuntimeError):
    """SupportBot (distribution ``supportbot``) is needed but not installed."""


@contextmanager
def _needs_supportbot() -> Iterator[None]:
    """Around an import of SupportBot's distribution: a missing one is one clear error."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] not in {"supportbot", "devservices"}:
            raise
        raise ReferenceAgentMissing(
            f"{exc.name} is not installed: SupportBot, the reference agent, is a separate "
            "distribution; set ini evals_agent to your agent's factory (module:factory), "
            "or install it (pip install -e packages/supportbot)."
        ) from None


def supportbot_agent(bot: Any) -> AgentSpec:
    """The contract's view of a ``SupportBot``."""
    with _needs_supportbot():
        from supportbot import fingerprints, prompts

    def agent(query: str, *, session_id: str | None = None, seed: int | None = None) -> Answer:
        result = bot.handle(query, session_id, seed=seed)
        return Answer(result.response, result.category)

    def reset(session_id: str) -> None:
        bot.conversations.pop(session_id, None)

    return AgentSpec(
        agent,
        name=NAME,
        prompt_dir=prompts.prompt_path("classify").parent,
        steps=fingerprints.agent_steps(bot.settings),
        reset=reset,
        hashes=prompts.prompt_hashes,
    )


def make_agent(tracer_provider: Any) -> AgentSpec:
    """SupportBot as an ``evals_agent`` factory (settings from the environment)."""
    with _needs_supportbot():
        from supportbot.agent import SupportBot

    return supportbot_agent(SupportBot(tracer_provider=tracer_provider))


def make_bot(settings: Any, tracer_provider: Any) -> Any:
    """A ``SupportBot`` with the plugin's settings, tracing to the plugin's provider."""
    with _needs_supportbot():
        from supportbot.agent import SupportBot

    return SupportBot(settings, tracer_provider=tracer_provider)


def agent_fingerprints(settings: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """SupportBot's (prompt hashes, agent steps) for the given settings."""
    with _needs_supportbot():
        from supportbot import fingerprints, prompts

    return prompts.prompt_hashes(), fingerprints.agent_steps(settings)


@contextmanager
def local_llm() -> Iterator[str]:
    """The base URL of the local LLM server (llama.cpp, from ``devservices``), started for the
    block; installed, and its model assembled, the first time."""
    with _needs_supportbot():
        from devservices.llm_server import LlmServer

    with LlmServer() as server:
        yield server.base_url


def lookup_outcome(run: TurnRun) -> str:
    """Did the order lookup find the order (``found``/``not_found``), or was there no order id
    to look up (``no_order_id`` on the order path, ``not_attempted`` elsewhere)?"""
    tool = next(iter(run.spans_of("TOOL", LOOKUP_TOOL)), None)
    if tool is not None:
        return "not_found" if tool.status_code == "ERROR" else "found"
    return "no_order_id" if run.label == "order_status" else "not_attempted"


def evaluators() -> list[Evaluator]:
    """SupportBot's own evaluators (registered only while SupportBot is the agent)."""
    return [
        code_evaluator(
            ORDER_LOOKUP,
            ("found", "not_found", "no_order_id", "not_attempted"),
            lookup_outcome,
            description="the order lookup's outcome",
        )
    ]
