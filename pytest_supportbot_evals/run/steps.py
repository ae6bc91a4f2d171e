"""Which step of an agent (or which judge) sent a recorded LLM request.

A cassette miss says *whose* request changed, and the health check names the step whose reply
was cut off. The agent sends nothing for it: when a request is recorded, the plugin stores the
step's name in the recorded request (``x-evals-step``, in the cassette only; it is not part
of request matching). The name comes from, in order:

1. the plugin's own judges (``judge:<evaluator>``);
2. OpenInference's context metadata: an agent names a step with
   ``with openinference.instrumentation.using_metadata({"step": "classify"}):`` around its LLM
   call; the OpenAI instrumentation also puts it on the LLM span, so Phoenix shows it too;
3. a header the agent sent itself (older recordings of SupportBot carry one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: Where a recorded request keeps its step's name (request headers are not matched).
STEP_HEADER = "x-evals-step"
#: The header cassettes recorded before the neutral names carry; still read.
LEGACY_STEP_HEADER = "x-supportbot-step"
#: The OpenInference metadata key an agent names its LLM step with.
METADATA_KEY = "step"
#: The steps of the plugin's judges are ``judge:<evaluator>``.
JUDGE_PREFIX = "judge:"
_STEP: ContextVar[str | None] = ContextVar("pytest_supportbot_evals_step", default=None)


def judge_step(evaluator: str) -> str:
    return f"{JUDGE_PREFIX}{evaluator}"


def judged_by(step: str) -> str | None:
    """The evaluator whose judge sent a step's requests, or ``None`` for an agent's step."""
    return step.removeprefix(JUDGE_PREFIX) if step.startswith(JUDGE_PREFIX) else None


@contextmanager
def naming(step: str) -> Iterator[None]:
    """LLM requests sent inside this block belong to ``step`` (the plugin's judges use it)."""
    token = _STEP.set(step)
    try:
        yield
    finally:
        _STEP.reset(token)


def current() -> str | None:
    """The step the current request belongs to, if anyone named it."""
    step = _STEP.get()
    if step:
        return step
    from openinference.instrumentation import get_attributes_from_context
    from openinference.semconv.trace import SpanAttributes

    for key, value in get_attributes_from_context():
        if key == SpanAttributes.METADATA:
            try:
                metadata = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                return None
            named = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
            return str(named) if named else None
    return None


def tag(request: Any) -> Any:
    """Store the current step's name in a request about to be recorded (or matched)."""
    if _header(request) is None:
        step = current()
        if step:
            request.headers[STEP_HEADER] = step
    return request


def step_of(request: Any, default: str = "unknown step") -> str:
    """The step that sent a request, as recorded (or as named now, for a live request)."""
    return _header(request) or current() or default


def _header(request: Any) -> str | None:
    headers = request.headers
    return recorded_step(headers if isinstance(headers, Mapping) else dict(headers))


def recorded_step(headers: Mapping[str, Any]) -> str | None:
    """The step named in a request's headers (as vcrpy recorded them: a value or a list)."""
    step = headers.get(STEP_HEADER) or headers.get(LEGACY_STEP_HEADER)
    # a header name in another case (as vcrpy or a server wrote it); vcrpy's own headers
    # (a case-insensitive mapping, with ``lower_items``) have already been asked
    if step is None and not hasattr(headers, "lower_items"):
        wanted = (STEP_HEADER, LEGACY_STEP_HEADER)
        step = next((v for k, v in headers.items() if str(k).lower() in wanted), None)
    if isinstance(step, list):
        step = step[0] if step else None
    return str(step) if step else None
