"""The one way the plugin writes a file: scanned for secrets, then atomically (temp and rename).

A reader never sees half a file, a failed write leaves the previous file as it was and no temp
file behind, and a file that would hold a secret is never written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals_core import files
from pytest_supportbot_evals.recording import secrets


def write_atomic(path: Path, text: str, check: Callable[[Path], object] | None = None) -> None:
    """Write ``text`` to ``path`` after a secrets scan; raises ``SecretFoundError``/``OSError``
    (or what ``check(temp path)`` raises to refuse the new text)."""
    secrets.ensure_clean(text, str(path))
    files.write_atomic(path, text, check)


def read_json(path: Path, missing: str, unreadable: str) -> Any:
    """Parse a JSON file; a missing or unreadable one raises ``ValueError`` with the given text
    (``unreadable`` may hold ``{error}``)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(missing) from None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, or not UTF-8
        raise ValueError(unreadable.format(error=exc)) from None
