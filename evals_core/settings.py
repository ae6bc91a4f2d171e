"""SupportBot settings: one frozen object, built from the environment with strict parsing.

A typo in a variable's value is an error that names the variable, never a silent default:
a regression gate that quietly ran against the wrong model would be worse than none.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_PROJECT = "support-bot"
#: Sent as the API key when none is configured. Local OpenAI-compatible servers need no key,
#: but the SDK refuses an empty one; this value is deliberately not key-shaped.
NO_KEY_PLACEHOLDER = "no-key-configured"
#: Where an answer (free text) ends: at a blank line, or where a base model served with a
#: plain-text template (``Customer:`` / ``SupportBot:``) would write the next turn. A chat model
#: rarely reaches them; support answers are one short paragraph.
ANSWER_STOP = ("\nCustomer:", "\nSupportBot:", "\n\n")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides how SupportBot talks to its LLM, its judge and Phoenix."""

    api_key: str | None = None
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    judge_model: str | None = None
    temperature: float = 0.0
    seed: int = 42
    #: The budget of the answer steps (free text); the structured steps have their own, small,
    #: budgets, so that a JSON reply is never cut off by a long answer budget or vice versa.
    max_tokens: int = 256
    classify_max_tokens: int = 160
    #: Ask the classifier's reply for this many alternatives per token (``top_logprobs``), from
    #: which ``classification.confidence`` is read; 0: not asked, and no confidence.
    classify_top_logprobs: int = 0
    judge_max_tokens: int = 160
    top_k: int = 2
    request_timeout: float = 120.0
    max_retries: int = 2
    structured_output: str = "json_schema"
    faq_file: Path | None = None
    orders_file: Path | None = None
    phoenix_endpoint: str | None = None
    phoenix_project: str = DEFAULT_PROJECT
    phoenix_api_key: str | None = None
    #: Seconds a command may wait on Phoenix in all (requests, read-backs, retries together);
    #: ``None``: 15 s for ask/chat/evaluate, 60 s for ``deliver`` and an eval run's delivery.
    phoenix_budget: float | None = None

    @property
    def effective_judge_model(self) -> str:
        return self.judge_model or self.model

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (see README, "Configuration")."""
        env = os.environ if env is None else env
        return cls(
            api_key=_text(env, "OPENAI_API_KEY"),
            base_url=_text(env, "OPENAI_BASE_URL"),
            model=_text(env, "SUPPORTBOT_MODEL") or DEFAULT_MODEL,
            judge_model=_text(env, "SUPPORTBOT_JUDGE_MODEL"),
            temperature=_number(env, "SUPPORTBOT_TEMPERATURE", 0.0, low=0.0, high=2.0),
            seed=int(_number(env, "SUPPORTBOT_SEED", 42, integer=True)),
            max_tokens=int(_number(env, "SUPPORTBOT_MAX_TOKENS", 256, integer=True, low=1)),
            classify_max_tokens=int(
                _number(env, "SUPPORTBOT_CLASSIFY_MAX_TOKENS", 160, integer=True, low=1)
            ),
            classify_top_logprobs=int(
                _number(env, "SUPPORTBOT_CLASSIFY_TOP_LOGPROBS", 0, integer=True, low=0, high=20)
            ),
            judge_max_tokens=int(
                _number(env, "SUPPORTBOT_JUDGE_MAX_TOKENS", 160, integer=True, low=1)
            ),
            top_k=int(_number(env, "SUPPORTBOT_TOP_K", 2, integer=True, low=1, high=20)),
            request_timeout=_number(env, "SUPPORTBOT_TIMEOUT", 120.0, low=0.1),
            max_retries=int(_number(env, "SUPPORTBOT_MAX_RETRIES", 2, integer=True, low=0)),
            structured_output=_choice(
                env, "SUPPORTBOT_STRUCTURED_OUTPUT", ("json_schema", "json_object")
            ),
            faq_file=_existing_file(env, "SUPPORTBOT_FAQ_DATA"),
            orders_file=_existing_file(env, "SUPPORTBOT_ORDERS_DATA"),
            phoenix_endpoint=_text(env, "PHOENIX_COLLECTOR_ENDPOINT"),
            phoenix_project=_text(env, "PHOENIX_PROJECT_NAME") or DEFAULT_PROJECT,
            phoenix_api_key=_text(env, "PHOENIX_API_KEY"),
            phoenix_budget=_number(env, "SUPPORTBOT_PHOENIX_BUDGET", 0.0, low=0.5) or None,
        )


#: Every ``SUPPORTBOT_X`` variable may also be given under its neutral name ``EVALS_X`` (the
#: eval plugin's name for it, whatever the agent).
NEUTRAL_PREFIX = "EVALS_"


def _raw(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not name.startswith("SUPPORTBOT_"):
        return value
    alias = NEUTRAL_PREFIX + name.removeprefix("SUPPORTBOT_")
    neutral = env.get(alias, "").strip()
    if neutral and value and neutral != value:
        raise SettingsError(f"{alias}={neutral!r} and {name}={value!r} disagree; set only one.")
    return neutral or value


def _text(env: Mapping[str, str], name: str) -> str | None:
    return _raw(env, name) or None


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    value = _text(env, name)
    if value is None:
        return None
    if not Path(value).is_file():
        raise SettingsError(f"{name}={value!r}: no such file; give the path of a JSON data file.")
    return Path(value)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name) or choices[0]
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of {choices}; unset it or pick one.")
    return value


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float:
    raw = _raw(env, name)
    if not raw:
        return default
    kind = "a whole number" if integer else "a number"
    try:
        value = float(int(raw)) if integer else float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {kind}; unset it or give {kind}.") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name}={raw!r} is not a finite number; unset it or give {kind}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SettingsError(f"{name}={raw!r} is out of range; it must be {bounds}.")
    return value
