"""The one place an OpenAI client is built, so the agent and the judge agree on endpoint and key."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from evals_core.settings import NO_KEY_PLACEHOLDER, Settings

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


def served_name(model: str) -> str:
    """The name of the model a server says answered: llama.cpp's server answers with the path
    of the GGUF file it loaded, of which the file name is the model (the directory is the
    machine's, not the model's)."""
    return model.rsplit("/", 1)[-1] if model.startswith("/") else model


class AnsweringModel:
    """Which model really answered: the ``model`` of the last chat completion a client received
    (per thread), read from the reply itself, not from what the request asked for (a local
    server answers whatever model name it is sent).

    ``http_client()`` gives an HTTP client for ``openai.OpenAI(http_client=...)`` (or
    phoenix-evals' ``LLM``) that reports every reply to this object.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def last(self) -> str | None:
        return getattr(self._local, "model", None)

    def reset(self) -> None:
        self._local.model = None

    def _seen(self, response: Any) -> None:
        if response.status_code != 200 or not response.url.path.endswith("/chat/completions"):
            return
        response.read()
        try:
            model = response.json().get("model")
        except (ValueError, AttributeError):
            return
        if isinstance(model, str) and model:
            self._local.model = served_name(model)

    def http_client(self) -> Any:
        from openai import DefaultHttpxClient

        return DefaultHttpxClient(event_hooks={"response": [self._seen]})


def compact(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an object of one string-enum property) with the JSON texts it allows listed
    as an ``enum`` of objects, so that a grammar-constrained server writes them compactly.

    llama.cpp turns an object schema into a grammar that allows whitespace around every token,
    and a small model fills it: base Gemma padded a one-word label to 144 completion tokens
    (``{\\n \\t \\t ...``). An ``enum`` of whole objects becomes a grammar of exactly those
    texts (``{"label":"relevant"}``), while the properties keep the schema valid for servers
    that read those. A schema that is not one enum property is returned unchanged.
    """
    properties = schema.get("properties", {})
    if len(properties) != 1:
        return schema
    ((name, prop),) = properties.items()
    if "enum" not in prop:
        return schema
    return {**schema, "enum": [{name: value} for value in prop["enum"]]}
