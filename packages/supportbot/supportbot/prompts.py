"""Prompts live in ``supportbot/prompts/*.txt`` so that a prompt change is a visible diff.

Each file is a ``str.format`` template. ``prompt_hashes`` fingerprints them for baselines and
annotation metadata.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PROMPT_DIR = Path(__file__).parent / "prompts"
#: A folder whose ``<name>.txt`` files replace the packaged prompts of the same name (a prompt
#: experiment; the baseline comparison names the prompts that differ).
OVERRIDE_ENV = "SUPPORTBOT_PROMPTS_DIR"

#: Prompts the agent sends, by the step name used in traces and cassette diagnostics.
AGENT_PROMPTS = ("classify", "order_answer", "order_missing_id", "faq_answer")
JUDGE_PROMPTS = ("judge_retrieval_relevance",)


def load(name: str) -> str:
    path = prompt_path(name)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Prompt file {path} is missing; restore it from version control."
        ) from None


def render(name: str, **variables: str) -> str:
    """The prompt with its ``{placeholders}`` filled (``{{`` and ``}}`` are literal braces)."""
    return load(name).format(**variables)


def prompt_path(name: str) -> Path:
    """The packaged prompt file, or its replacement in ``SUPPORTBOT_PROMPTS_DIR``."""
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override and (Path(override) / f"{name}.txt").is_file():
        return Path(override) / f"{name}.txt"
    return PROMPT_DIR / f"{name}.txt"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def prompt_hashes(names: tuple[str, ...] = AGENT_PROMPTS) -> dict[str, str]:
    return {name: digest(load(name)) for name in names}
