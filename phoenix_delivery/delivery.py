"""What one delivery to Phoenix did: stored, refused, unreachable, dead-lettered, set aside; and
how to say it in one message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from phoenix_delivery.spool import MAX_ATTEMPTS, Spool


@dataclass(frozen=True)
class Delivery:
    """The outcome of one flush: what was stored, and what still waits, and why."""

    delivered: int
    pending: int
    requests: int
    error: str | None = None
    #: Phoenix answered but did not store these (their reasons); they stay, attempts counted.
    refused: tuple[str, ...] = ()
    #: Records refused too often, moved to the dead-letter file this time.
    dead: int = 0
    set_aside: int = 0
    #: Old records not offered (a foreground command) or left when time ran out.
    skipped: int = 0
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        return self.pending == 0 and not self.dead and not self.set_aside

    def describe(self, endpoint: str, spool: Path) -> str:
        lines = []
        if self.unreachable:
            lines.append(
                f"Phoenix is not reachable at {endpoint} ({self.error}): {self.pending} "
                f"record(s) kept in {spool}; they are sent on the next run, or with "
                "`supportbot deliver`."
            )
        elif self.refused:
            lines.append(
                f"Phoenix at {endpoint} refused {len(self.refused)} record(s) "
                f"({self.refused[0]}); {self.pending} kept in {spool} and retried later, "
                f"up to {MAX_ATTEMPTS} times each."
            )
        elif self.pending:
            lines.append(
                f"Phoenix {endpoint}: {self.pending} record(s) wait in {spool} (older backlog, "
                "not sent now); send them with `supportbot deliver`."
            )
        else:
            lines.append(
                f"Phoenix {endpoint}: all delivered and stored ({self.delivered} batches)."
            )
        if self.dead:
            dead = Spool(spool).dead_letters
            lines.append(
                f"{self.dead} record(s) refused {MAX_ATTEMPTS} times were moved to {dead}; fix "
                "the cause, then retry them with `supportbot deliver --retry-dead`."
            )
        if self.set_aside:
            lines.append(
                f"{self.set_aside} damaged spool line(s) (cut off by a crash?) were set aside in "
                f"{Spool(spool).rejected}; they cannot be delivered: inspect them."
            )
        return "\n".join(lines)
