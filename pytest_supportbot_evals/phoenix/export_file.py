"""Appending exported golden cases to a golden file: each case scanned for secrets on its own
(one that still holds one after redaction is left out and named; the others are written), the
file validated as a golden file before it replaces the old one."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.recording.files import write_atomic
from pytest_supportbot_evals.run.goldens import load_file

NEW_FILE_HEADER = (
    "# Golden cases exported from Phoenix by `evals export-goldens`.\n"
    "# Each case's expectations are what the bot did: confirm or correct them, then delete\n"
    "# its 'review:' line. 'origin' links back to the trace it came from.\n"
)


def append_cases(path: Path, cases: Sequence[Mapping[str, Any]]) -> list[str]:
    """Append cases to a golden file (created if missing), keeping what is there, comments too;
    return the cases refused for a secret, one line each (id, trace, what was found).

    The new text is validated as a golden file before it replaces the old one (temp file and
    rename), so a failed export never leaves a broken or half-written file.
    """
    import yaml

    kept, refused = [], []
    for case in cases:
        where = f"case {case.get('id')!r} (trace {case.get('origin', {}).get('trace_id')})"
        findings = secrets.scan_text(yaml.safe_dump(dict(case), allow_unicode=True), where)
        if findings:
            refused.append(f"{where}: {findings[0].kind} ({findings[0].excerpt})")
        else:
            kept.append(dict(case))
    if not kept:
        return refused
    block = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=100)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        load_file(path)  # the file must be valid before we add to it
        item = re.search(r"^(\s*)- ", text, re.MULTILINE)
        indent = item.group(1) if item else "  "
        text = text.rstrip("\n") + "\n\n"
    else:
        text, indent = NEW_FILE_HEADER + "cases:\n", "  "
        path.parent.mkdir(parents=True, exist_ok=True)
    text += "".join(indent + line if line.strip() else line for line in block.splitlines(True))
    # Scanned for secrets (in any encoding) and validated as a golden file before it replaces
    # the old one: nothing is written otherwise.
    write_atomic(path, text, check=load_file)
    return refused
