"""The one atomic writer: a temp file in the same folder, then a rename.

A reader never sees half a file; a failed write (or a ``check`` that refuses the new text) leaves
the previous file as it was and no temp file behind. The plugin adds its secrets scan on top.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, text: str, check: Callable[[Path], object] | None = None) -> None:
    """Write ``text`` to ``path`` atomically; ``check(temp path)`` may raise to refuse it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; the file gets the mode it had, or a new file's usual one
        os.fchmod(fd, _mode(path))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
