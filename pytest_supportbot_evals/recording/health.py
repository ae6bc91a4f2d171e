"""Is a recorded reply usable? The same check at record time and over committed cassettes.

A recording is refused (the previous cassette kept) when a reply is unusable:

- chat-template control tokens in the text (``<|im_end|>``, ``<end_of_turn>``, ``</s>`` ...):
  the server applied a template the model never saw, and the "answer" is template garbage;
- a structured step (``response_format`` or tools: classification, the judge) cut off at its
  token budget (``finish_reason: length``), or whose reply is not JSON;
- an empty answer, or a reply that is not a chat completion at all.

An answer step (free text) that reaches its budget is allowed: the text is still an answer,
just a long one. It is counted (``Health.cut_answers``) so that a budget too small shows up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.run.steps import step_of

#: Text no model's reply should ever contain: the control tokens of common chat templates.
CONTROL_TOKENS = (
    "<|im_",
    "<start_of_turn>",
    "<end_of_turn>",
    "</s>",
    "<eos>",
    "<bos>",
    "<pad>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|end|>",
)


@dataclass(frozen=True)
class Problem:
    """One unusable reply: which interaction of which cassette, whose step, and why."""

    index: int
    step: str
    reason: str
    where: str = ""

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{place}interaction {self.index + 1} ({self.step}): {self.reason}"


@dataclass
class Health:
    problems: list[Problem] = field(default_factory=list)
    #: Answers (free text) that stopped at their token budget: allowed, counted.
    cut_answers: list[Problem] = field(default_factory=list)
    interactions: int = 0
    #: What in a cassette file does not match its seal (``check_file`` only; see ``seal``).
    unsealed: list[str] = field(default_factory=list)


def _text(body: Any) -> str:
    if isinstance(body, dict):  # a vcrpy response body: {"string": ...}
        body = body.get("string")
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return "" if body is None else str(body)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def is_structured(body: Any) -> bool:
    """The request asked for JSON (a response format, or a tool call)."""
    return isinstance(body, dict) and any(k in body for k in ("response_format", "tools"))


def check_interaction(index: int, request: Any, response: dict[str, Any]) -> list[Problem]:
    """The problems of one recorded (request, response); a cut answer is a ``length`` problem
    with ``step`` set and reason starting ``answer cut off`` (see ``check``)."""
    step = step_of(request)
    if not str(request.path).endswith("/chat/completions"):
        return []
    status = response.get("status", {}).get("code")
    if status != 200:
        return [Problem(index, step, f"HTTP status {status}, not a reply")]
    data = _json(_text(response.get("body")))
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices:
        return [Problem(index, step, "the response is not a chat completion")]
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content") or ""
    calls = message.get("tool_calls") or []
    text = content + "".join(str(c.get("function", {}).get("arguments", "")) for c in calls)
    problems = []
    tokens = [t for t in CONTROL_TOKENS if t in text]
    if tokens:
        problems.append(Problem(index, step, f"chat-template control tokens {tokens}"))
    structured = is_structured(_json(_text(request.body)))
    cut = choice.get("finish_reason") == "length"
    if structured:
        if cut:
            problems.append(Problem(index, step, "structured reply cut off (finish_reason length)"))
        replies = [c.get("function", {}).get("arguments", "") for c in calls] or [content]
        if any(not isinstance(_json(str(r)), dict) for r in replies):
            problems.append(Problem(index, step, f"reply is not a JSON object: {text[:120]!r}"))
    elif not text.strip():
        problems.append(Problem(index, step, "empty answer"))
    elif cut:
        problems.append(Problem(index, step, "answer cut off at max_tokens (allowed)"))
    return problems


def check(interactions: Iterable[tuple[Any, dict[str, Any]]], where: str = "") -> Health:
    """Check recorded (request, response) pairs: vcrpy's, in memory or loaded from a file."""
    health = Health()
    for index, (request, response) in enumerate(interactions):
        health.interactions += 1
        for problem in check_interaction(index, request, response):
            problem = Problem(problem.index, problem.step, problem.reason, where)
            allowed = problem.reason.endswith("(allowed)")
            (health.cut_answers if allowed else health.problems).append(problem)
    return health


def cassette_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.yaml") if not p.name.startswith("."))
        elif path.exists():
            yield path


def check_file(path: Path) -> Health:
    """Check a cassette file, and its seal, from one read; one that cannot be read is a problem,
    never skipped."""
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    from pytest_supportbot_evals.recording import _seal as seal

    try:
        requests, responses, *rest = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    except Exception as exc:
        reason = f"cannot be read: {type(exc).__name__}: {str(exc)[:200]}"
        return Health([Problem(-1, "cassette", reason, str(path))])
    health = check(zip(requests, responses, strict=True), str(path))
    health.unsealed = seal.problems(path, requests, responses, rest[0] if rest else None)
    return health
