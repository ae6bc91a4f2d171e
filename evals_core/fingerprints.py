"""What shapes a judge's verdict, as plain data: recorded in baselines, compared run against run.

A comparison with a baseline is like for like only when the judge ran with the same settings;
any difference is named in the comparison note. (An agent fingerprints its own steps.)
"""

from __future__ import annotations

import json
from typing import Any

from evals_core import prompts
from evals_core.judges import INCLUDE_EXPLANATION, RELEVANCE_CHOICES
from evals_core.settings import Settings


def digest(value: Any) -> str:
    """A short fingerprint of JSON-able data."""
    return prompts.digest(json.dumps(value, sort_keys=True))


def relevance_judge(settings: Settings, method: str = "auto") -> dict[str, Any]:
    """Everything that shapes a relevance verdict besides its input."""
    return {
        "model": settings.effective_judge_model,
        "prompt": prompts.digest(prompts.load("judge_retrieval_relevance")),
        "choices": digest(RELEVANCE_CHOICES),
        "include_explanation": INCLUDE_EXPLANATION,
        "method": method,
        "max_tokens": settings.judge_max_tokens,
        "temperature": settings.temperature,
        "seed": settings.seed,
    }
