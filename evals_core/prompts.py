"""Prompt files as data: loading, the override folder, and fingerprints.

A prompt is a ``<name>.txt`` file (a ``str.format`` template) in a package's ``prompts/``
folder, so that a prompt change is a visible diff. The judge's prompts live here
(``evals_core/prompts``); an agent keeps its own folder and loads from it with ``folder=``.
``prompt_hashes`` fingerprints prompts for baselines and annotation metadata.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PROMPT_DIR = Path(__file__).parent / "prompts"
#: A folder whose ``<name>.txt`` files replace the packaged prompts of the same name (a prompt
#: experiment; the baseline comparison names the prompts that differ).
OVERRIDE_ENV = "SUPPORTBOT_PROMPTS_DIR"
#: The judge's prompts, by name.
JUDGE_PROMPTS = ("judge_retrieval_relevance",)


def load(name: str, folder: Path = PROMPT_DIR) -> str:
    path = prompt_path(name, folder)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Prompt file {path} is missing; restore it from version control."
        ) from None


def render(name: str, folder: Path = PROMPT_DIR, **variables: str) -> str:
    """The prompt with its ``{placeholders}`` filled (``{{`` and ``}}`` are literal braces)."""
    return load(name, folder).format(**variables)


def prompt_path(name: str, folder: Path = PROMPT_DIR) -> Path:
    """The packaged prompt file, or its replacement in ``SUPPORTBOT_PROMPTS_DIR``."""
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override and (Path(override) / f"{name}.txt").is_file():
        return Path(override) / f"{name}.txt"
    return folder / f"{name}.txt"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def prompt_hashes(
    names: tuple[str, ...] = JUDGE_PROMPTS, folder: Path = PROMPT_DIR
) -> dict[str, str]:
    return {name: digest(load(name, folder)) for name in names}
