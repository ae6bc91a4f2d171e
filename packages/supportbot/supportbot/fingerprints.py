"""What shapes SupportBot's answers, as plain data: recorded in baselines, compared run against
run (the judge's fingerprint is ``evals_core.fingerprints``).

A comparison with a baseline is like for like only when the agent's steps ran with the same
settings; any difference is named in the comparison note.
"""

from __future__ import annotations

from typing import Any

from evals_core.fingerprints import digest as _digest
from evals_core.settings import ANSWER_STOP, Settings
from supportbot.classification import CLASSIFICATION_SCHEMA


def agent_steps(settings: Settings) -> dict[str, Any]:
    """Each agent step's settings (the prompts are fingerprinted on their own)."""
    classify = {
        "max_tokens": settings.classify_max_tokens,
        "structured_output": settings.structured_output,
        "schema": _digest(CLASSIFICATION_SCHEMA),
    }
    if settings.classify_top_logprobs:  # absent when off: older baselines stay comparable
        classify["top_logprobs"] = settings.classify_top_logprobs
    return {
        "classify": classify,
        "answer": {"max_tokens": settings.max_tokens, "stop": list(ANSWER_STOP)},
        "temperature": settings.temperature,
        "seed": settings.seed,
        "top_k": settings.top_k,
    }
