"""What shapes a verdict, as plain data: recorded in baselines, compared run against run.

A comparison with a baseline is like for like only when the agent's steps and the judge ran
with the same settings; any difference is named in the comparison note.
"""

from __future__ import annotations

import json
from typing import Any

from supportbot import prompts
from supportbot.classification import CLASSIFICATION_SCHEMA
from supportbot.judges import INCLUDE_EXPLANATION, RELEVANCE_CHOICES
from supportbot.settings import ANSWER_STOP, Settings


def _digest(value: Any) -> str:
    return prompts.digest(json.dumps(value, sort_keys=True))


def agent_steps(settings: Settings) -> dict[str, Any]:
    """Each agent step's settings (the prompts are fingerprinted on their own)."""
    classify = {
        "max_tokens": settings.classify_max_tokens,
        "structured_output": settings.structured_output,
        "schema": _digest(CLASSIFICATION_SCHEMA),
    }
    if settings.classify_top_logprobs:  # absent when off: older baselines stay comparable
        classify["top_logprobs"] = settings.classify_top_logprobs
    answer: dict[str, Any] = {"max_tokens": settings.max_tokens, "stop": list(ANSWER_STOP)}
    if settings.answer_model:  # absent when one model does every step (as older baselines)
        answer["model"] = settings.answer_model
    return {
        "classify": classify,
        "answer": answer,
        "temperature": settings.temperature,
        "seed": settings.seed,
        "top_k": settings.top_k,
    }


def relevance_judge(settings: Settings, method: str = "auto") -> dict[str, Any]:
    """Everything that shapes a relevance verdict besides its input."""
    return {
        "model": settings.effective_judge_model,
        "prompt": prompts.digest(prompts.load("judge_retrieval_relevance")),
        "choices": _digest(RELEVANCE_CHOICES),
        "include_explanation": INCLUDE_EXPLANATION,
        "method": method,
        "max_tokens": settings.judge_max_tokens,
        "temperature": settings.temperature,
        "seed": settings.seed,
    }
