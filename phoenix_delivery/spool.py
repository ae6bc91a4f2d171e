"""A durable, process-safe spool of what must reach Phoenix: spans and annotations.

Everything bound for Phoenix is appended here *first*; delivery removes what Phoenix has stored.
So a Phoenix that is down, slow or restarting costs a delay, never a verdict or a thumbs-down.
Each record carries the project and the Phoenix endpoint it was queued for, and is delivered
there, whatever endpoint or project the process that delivers it is set to.

Locking: appends and rewrites hold an exclusive lock on the file only while they read or write
it, never while the network is waited on (a concurrent ``ask`` appends at once). Delivery
itself is serialised by a second lock, so two processes never send the same record at once.

Outcomes per record: stored (removed), Phoenix unreachable or the time budget spent (everything
stays, delivery stops), accepted but not yet seen stored (``Unconfirmed``: stays, pending, no
attempt counted), or refused (``Refused``: stays with its attempt count and reason, the records
behind it are still offered). A record refused ``max_attempts`` times moves to the dead-letter
file (``<spool>.dead``); a line that is not a record (cut off by a crash, edited, any bytes)
moves to ``<spool>.rejected``; a record of a kind this version does not know stays, untouched.
All are reported, none is silently dropped.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals_core.files import write_atomic

Record = dict[str, Any]
MAX_ATTEMPTS = 5


class Refused(Exception):
    """Phoenix answered but did not store the record (an HTTP error, or not found on read-back)."""


class Unconfirmed(Exception):
    """Phoenix accepted the record but has not shown it stored yet: it stays, pending, and the
    next delivery confirms it (no attempt is counted: a slow Phoenix is not a refusal)."""


@dataclass
class DrainReport:
    """What one ``drain`` did beyond the (delivered, pending) counts."""

    refused: list[str] = field(default_factory=list)
    dead: int = 0
    set_aside: int = 0
    skipped: int = 0
    unconfirmed: int = 0
    unknown: int = 0
    unreachable: bool = False
    out_of_time: bool = False
    busy: bool = False


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

    def dead_count(self) -> int:
        """Records waiting in the dead-letter file (0 when there is none)."""
        try:
            return sum(1 for line in self.dead_letters.read_bytes().splitlines() if line.strip())
        except FileNotFoundError:
            return 0

    @contextmanager
    def _locked(self, suffix: str = ".lock", deadline: float | None = None) -> Iterator[bool]:
        """Hold the lock file ``<spool><suffix>``; with ``deadline``, give up (yield False)
        once it passes instead of waiting for ever."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + suffix), "a") as lock:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                    break
                except BlockingIOError:
                    if time.monotonic() > (deadline or 0):
                        yield False
                        return
                    time.sleep(0.05)
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(
        self, kind: str, payload: Any, *, project: str | None = None, endpoint: str | None = None
    ) -> None:
        record: Record = {"id": uuid.uuid4().hex, "kind": kind, "payload": payload}
        record |= {k: v for k, v in (("project", project), ("endpoint", endpoint)) if v}
        line = json.dumps(record).encode("utf-8")
        with self._locked(), open(self.path, "ab+") as handle:
            # A crash mid-append can leave a last line without its newline: start a fresh
            # line, so that only the cut record is set aside, never the next good one.
            if handle.seek(0, os.SEEK_END) > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = b"\n" + line
            handle.write(line + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _read(self) -> tuple[list[Record], list[bytes]]:
        """The records, and the lines that are not records (any bytes at all)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        records, bad = [], []
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                record = None
            ok = isinstance(record, dict) and {"id", "kind", "payload"} <= record.keys()
            if ok and isinstance(record["id"], str) and isinstance(record["kind"], str):
                records.append(record)
            else:
                bad.append(line)
        return records, bad

    def pending(self) -> list[Record]:
        """The records waiting (lines that are not records are left out: see ``drain``)."""
        return self._read()[0]

    def drain(
        self,
        deliver: Callable[[Record], bool],
        *,
        only_new: bool = False,
        deadline: float | None = None,
        kinds: Collection[str] | None = None,
    ) -> tuple[int, int]:
        """Offer each record in order to ``deliver``: True (stored), False (Phoenix unreachable
        or out of time: stop, keep the rest), ``Unconfirmed`` (keep, pending) or ``Refused``
        (keep it, count the attempt, go on).

        ``only_new`` offers only records never tried (a foreground command must not wait on an
        old backlog); ``deadline`` (``time.monotonic()``) stops offering once passed; records
        whose kind is not in ``kinds`` are kept as they are. After a batch of spans is left
        unconfirmed, the records of other kinds behind it wait too (they may refer to it).
        Returns (delivered, still pending).
        """
        self.last = report = DrainReport()
        with self._locked(".deliver.lock", deadline) as mine:
            with self._locked():
                records, bad = self._read()
                if bad:  # set aside byte for byte, never silently dropped
                    with open(self.rejected, "ab") as handle:
                        handle.writelines(line + b"\n" for line in bad)
                    report.set_aside = len(bad)
                    self._rewrite(records)
            if not mine:
                report.busy = True
                report.skipped = len(records)
                return 0, len(records)
            outcome = self._offer(records, deliver, only_new, deadline, kinds)
            with self._locked():
                return self._settle(outcome)

    def _offer(
        self,
        records: list[Record],
        deliver: Callable[[Record], bool],
        only_new: bool,
        deadline: float | None,
        kinds: Collection[str] | None,
    ) -> dict[str, Record | None]:
        """Deliver without holding the file lock; map each offered id to its new record
        (``None``: stored, or moved to the dead-letter file)."""
        report, outcome = self.last, {}
        held: str | None = None  # the kind that waits behind unconfirmed spans
        for record in records:
            if kinds is not None and record["kind"] not in kinds:
                report.unknown += 1
                continue
            if report.unreachable or (deadline and time.monotonic() > deadline):
                report.out_of_time |= not report.unreachable
                report.skipped += not report.unreachable
                continue
            if (only_new and record.get("attempts")) or (held and record["kind"] != held):
                report.skipped += 1
                continue
            try:
                if deliver(record):
                    outcome[record["id"]] = None
                elif deadline and time.monotonic() > deadline:
                    report.out_of_time = True  # the wait was cut by the budget
                else:
                    report.unreachable = True
                continue
            except Unconfirmed:
                report.unconfirmed += 1
                held = record["kind"]
                outcome[record["id"]] = {**record, "sent": True}
            except Refused as exc:
                attempts = record.get("attempts", 0) + 1
                error = str(exc)[:500]
                report.refused.append(error)
                new = {**record, "attempts": attempts, "last_error": error}
                outcome[record["id"]] = new
                if attempts >= self.max_attempts:
                    with open(self.dead_letters, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(new) + "\n")
                    report.dead += 1
                    outcome[record["id"]] = None
        return outcome

    def _settle(self, outcome: dict[str, Record | None]) -> tuple[int, int]:
        """Rewrite the file (under its lock): what was stored or dead-lettered leaves, what was
        tried is updated, what was appended meanwhile stays. Returns (delivered, pending)."""
        records, bad = self._read()
        kept = [outcome.get(r["id"], r) for r in records]
        kept_records = [r for r in kept if r is not None]
        if bad:
            with open(self.rejected, "ab") as handle:
                handle.writelines(line + b"\n" for line in bad)
            self.last.set_aside += len(bad)
        self._rewrite(kept_records)
        delivered = sum(1 for r in outcome.values() if r is None) - self.last.dead
        return delivered, len(kept_records)

    def retry_dead_letters(self) -> int:
        """Put dead-lettered records back in the spool with a fresh count; return how many."""
        with self._locked():
            if not self.dead_letters.exists():
                return 0
            dead = Spool(self.dead_letters)
            records, bad = dead._read()
            records = [
                {k: v for k, v in r.items() if k not in ("attempts", "last_error", "sent")}
                for r in records
            ]
            if bad:
                with open(self.rejected, "ab") as handle:
                    handle.writelines(line + b"\n" for line in bad)
            self._rewrite(self.pending() + records)
            self.dead_letters.unlink()
        return len(records)

    def _rewrite(self, records: list[Record]) -> None:
        if not records:
            self.path.unlink(missing_ok=True)
            return
        write_atomic(self.path, "".join(json.dumps(r) + "\n" for r in records))
