"""SupportBot's prompts live in ``supportbot/prompts/*.txt`` so that a prompt change is a
visible diff.

Each file is a ``str.format`` template, loaded (and overridden by ``SUPPORTBOT_PROMPTS_DIR``) as
``evals_core.prompts`` loads any prompt folder. ``prompt_hashes`` fingerprints them for
baselines and annotation metadata.
"""

from __future__ import annotations

from pathlib import Path

from evals_core import prompts as _prompts
from evals_core.prompts import OVERRIDE_ENV, digest

__all__ = ["AGENT_PROMPTS", "OVERRIDE_ENV", "PROMPT_DIR", "digest", "load", "prompt_path"]

PROMPT_DIR = Path(__file__).parent / "prompts"
#: Prompts the agent sends, by the step name used in traces and cassette diagnostics.
AGENT_PROMPTS = ("classify", "order_answer", "order_missing_id", "faq_answer")


def load(name: str) -> str:
    return _prompts.load(name, PROMPT_DIR)


def render(name: str, **variables: str) -> str:
    """The prompt with its ``{placeholders}`` filled (``{{`` and ``}}`` are literal braces)."""
    return _prompts.render(name, PROMPT_DIR, **variables)


def prompt_path(name: str) -> Path:
    """The packaged prompt file, or its replacement in ``SUPPORTBOT_PROMPTS_DIR``."""
    return _prompts.prompt_path(name, PROMPT_DIR)


def prompt_hashes(names: tuple[str, ...] = AGENT_PROMPTS) -> dict[str, str]:
    return _prompts.prompt_hashes(names, PROMPT_DIR)
