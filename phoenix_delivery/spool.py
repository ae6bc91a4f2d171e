"""A durable, process-safe spool of what must reach Phoenix: spans and annotations.

Everything bound for Phoenix is appended here *first*; delivery removes what Phoenix has stored.
So a Phoenix that is down, slow or restarting costs a delay, never a verdict or a thumbs-down.
Appends and rewrites hold an exclusive lock (several pytest-xdist workers or CLI sessions may
share one spool), and rewrites go through a temp file and rename.

Three outcomes per record: stored (removed), Phoenix unreachable (everything stays, delivery
stops), or refused (``Refused``: the record stays with its attempt count and reason, and the
records behind it are still offered). A record refused ``max_attempts`` times moves to the
dead-letter file (``<spool>.dead``), so one bad record never blocks the rest for good; a line
cut off by a crash moves to ``<spool>.rejected``. Both are reported, never silently dropped.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportbot.files import write_atomic

Record = dict[str, Any]
MAX_ATTEMPTS = 5


class Refused(Exception):
    """Phoenix answered but did not store the record (an HTTP error, or not found on read-back)."""


@dataclass
class DrainReport:
    """What one ``drain`` did beyond the (delivered, pending) counts."""

    refused: list[str] = field(default_factory=list)
    dead: int = 0
    set_aside: int = 0
    skipped: int = 0
    unreachable: bool = False


class Spool:
    def __init__(self, path: Path, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.path = path
        self.max_attempts = max_attempts
        self.last = DrainReport()

    @property
    def dead_letters(self) -> Path:
        return self.path.with_name(self.path.name + ".dead")

    @property
    def rejected(self) -> Path:
        return self.path.with_suffix(".rejected")

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

    def drain(
        self,
        deliver: Callable[[Record], bool],
        *,
        only_new: bool = False,
        deadline: float | None = None,
    ) -> tuple[int, int]:
        """Offer each record in order to ``deliver``: True (stored), False (Phoenix unreachable:
        stop, keep the rest) or ``Refused`` (keep it, count the attempt, go on).

        ``only_new`` offers only records never tried (a foreground command must not wait on an
        old backlog); ``deadline`` (``time.monotonic()``) stops offering once passed. Spans are
        offered before the annotations that refer to them. Returns (delivered, still pending).
        """
        import time

        self.last = report = DrainReport()
        with self._locked():
            records = self.pending()
            corrupt = [r for r in records if r["kind"] == "corrupt"]
            if corrupt:  # set aside, never silently dropped
                with open(self.rejected, "a", encoding="utf-8") as handle:
                    handle.writelines(str(r["payload"]) + "\n" for r in corrupt)
                report.set_aside = len(corrupt)
            kept, dead, delivered = [], [], 0
            for record in (r for r in records if r["kind"] != "corrupt"):
                waiting = report.unreachable or (deadline and time.monotonic() > deadline)
                if waiting or (only_new and record.get("attempts")):
                    report.skipped += not report.unreachable
                    kept.append(record)
                    continue
                try:
                    if deliver(record):
                        delivered += 1
                        continue
                    report.unreachable = True
                except Refused as exc:
                    record = {**record, "attempts": record.get("attempts", 0) + 1}
                    record["last_error"] = str(exc)[:500]
                    report.refused.append(record["last_error"])
                    if record["attempts"] >= self.max_attempts:
                        dead.append(record)
                        continue
                kept.append(record)
            if dead:
                with open(self.dead_letters, "a", encoding="utf-8") as handle:
                    handle.writelines(json.dumps(r) + "\n" for r in dead)
                report.dead = len(dead)
            self._rewrite(kept)
        return delivered, len(kept)

    def retry_dead_letters(self) -> int:
        """Put dead-lettered records back in the spool with a fresh count; return how many."""
        with self._locked():
            if not self.dead_letters.exists():
                return 0
            lines = self.dead_letters.read_text(encoding="utf-8").splitlines()
            records = [
                {k: v for k, v in json.loads(line).items() if k not in ("attempts", "last_error")}
                for line in lines
                if line.strip()
            ]
            self._rewrite(self.pending() + records)
            self.dead_letters.unlink()
        return len(records)

    def _rewrite(self, records: list[Record]) -> None:
        if not records:
            self.path.unlink(missing_ok=True)
            return
        write_atomic(self.path, "".join(json.dumps(r) + "\n" for r in records))
