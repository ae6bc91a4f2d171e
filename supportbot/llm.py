"""The one place an OpenAI client is built, so the agent and the judge agree on endpoint and key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supportbot.settings import NO_KEY_PLACEHOLDER, Settings

if TYPE_CHECKING:
    from openai import OpenAI


def client_kwargs(settings: Settings) -> dict[str, object]:
    """Constructor arguments for ``openai.OpenAI`` (also handed to phoenix-evals' ``LLM``)."""
    kwargs: dict[str, object] = {
        "api_key": settings.api_key or NO_KEY_PLACEHOLDER,
        "timeout": settings.request_timeout,
        "max_retries": settings.max_retries,
    }
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return kwargs


def build_client(settings: Settings) -> OpenAI:
    from openai import OpenAI

    return OpenAI(**client_kwargs(settings))  # type: ignore[arg-type]
