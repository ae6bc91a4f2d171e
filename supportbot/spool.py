"""A durable, process-safe spool of what must reach Phoenix: spans and annotations.

Everything bound for Phoenix is appended here *first*; delivery removes what Phoenix accepted.
So a Phoenix that is down, slow or restarting costs a delay, never a verdict or a thumbs-down.
Appends and rewrites hold an exclusive lock (several pytest-xdist workers or CLI sessions may
share one spool), and rewrites go through a temp file and rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, kind: str, payload: Any) -> None:
        line = json.dumps({"id": uuid.uuid4().hex, "kind": kind, "payload": payload})
        with self._locked(), open(self.path, "ab+") as handle:
            # A crash mid-append can leave a last line without its newline: start a fresh
            # line, so that only the cut record is set aside, never the next good one.
            if handle.seek(0, os.SEEK_END) > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = "\n" + line
            handle.write((line + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[Record]:
        if not self.path.exists():
            return []
        records = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not (isinstance(record, dict) and {"kind", "payload"} <= record.keys()):
                # A line cut off by a crash mid-append, or edited: set aside, never lost.
                record = {"id": f"corrupt-{number}", "kind": "corrupt", "payload": line}
            records.append(record)
        return records

    def drain(self, deliver: Callable[[Record], bool]) -> tuple[int, int]:
        """Offer each record in order to ``deliver``; keep those it did not accept.

        Delivery stops at the first refusal, so spans always reach Phoenix before the
        annotations that refer to them. Returns (delivered, still pending).
        """
        with self._locked():
            records = self.pending()
            corrupt = [r for r in records if r["kind"] == "corrupt"]
            if corrupt:  # set aside, never silently dropped
                with open(self.path.with_suffix(".rejected"), "a", encoding="utf-8") as handle:
                    handle.writelines(str(r["payload"]) + "\n" for r in corrupt)
            records = [r for r in records if r["kind"] != "corrupt"]
            delivered = 0
            for record in records:
                if not deliver(record):
                    break
                delivered += 1
            remaining = records[delivered:]
            self._rewrite(remaining)
        return delivered, len(remaining)

    def _rewrite(self, records: list[Record]) -> None:
        if not records:
            self.path.unlink(missing_ok=True)
            return
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".spool.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in records)
        os.replace(tmp, self.path)
