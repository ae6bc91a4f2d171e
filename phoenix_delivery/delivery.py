"""What one delivery to Phoenix did: stored, refused, unreachable, dead-lettered, set aside; and
how to say it in one message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals_core.tracing import public_url
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
    #: Accepted by Phoenix, not seen stored yet: pending, confirmed by the next delivery.
    unconfirmed: int = 0
    #: Records of a kind this version does not deliver: kept in the spool as they are.
    unknown: int = 0
    #: The budget ran out before everything was offered.
    out_of_time: bool = False
    #: Another process was delivering this spool for the whole budget.
    busy: bool = False
    #: Records in the dead-letter file after this flush (this time's and earlier ones).
    dead_total: int = 0
    #: The endpoint delivery stopped at, when it is not the one the command names (records go
    #: to the endpoint they were queued for).
    endpoint: str | None = None

    @property
    def ok(self) -> bool:
        return self.pending == 0 and not (self.dead or self.set_aside or self.dead_total)

    def describe(
        self,
        endpoint: str,
        spool: Path,
        deliver: str | None = "supportbot deliver",
        budget: str = "SUPPORTBOT_PHOENIX_BUDGET",
    ) -> str:
        """What happened, naming the ``deliver`` command (``None``: none; the next run sends
        what is left) and the ``budget`` variable of the caller."""
        endpoint = public_url(endpoint)
        then = f", or with `{deliver}`" if deliver else ""
        lines = []
        if self.unreachable and self.endpoint and self.endpoint != endpoint:
            lines.append(
                f"Records queued for Phoenix at {self.endpoint} wait for it; to send them to "
                f"{endpoint} instead: `{deliver or 'supportbot deliver'} --reroute`."
            )
            endpoint = self.endpoint
        if self.busy:
            lines.append(
                f"Another process is delivering {spool}: {self.pending} record(s) left to it "
                "(or to the next run)."
            )
        elif self.out_of_time:
            lines.append(
                f"Phoenix at {endpoint}: {self.error} before everything was delivered; "
                f"{self.pending} record(s) kept in {spool}; they are sent on the next run{then} "
                f"(the budget is {budget})."
            )
        elif self.unreachable:
            lines.append(
                f"Phoenix is not reachable at {endpoint} ({self.error}): {self.pending} "
                f"record(s) kept in {spool}; they are sent on the next run{then}."
            )
        elif self.refused:
            lines.append(
                f"Phoenix at {endpoint} refused {len(self.refused)} record(s) "
                f"({self.refused[0]}); {self.pending} kept in {spool} and retried later, "
                f"up to {MAX_ATTEMPTS} times each."
            )
        elif self.unconfirmed:
            lines.append(
                f"Phoenix at {endpoint} accepted {self.unconfirmed} batch(es) it has not shown "
                f"stored yet: pending in {spool}, confirmed by the next "
                f"{f'`{deliver}`' if deliver else 'run'} (kept until then)."
            )
        elif self.pending > self.unknown:
            lines.append(
                f"Phoenix {endpoint}: {self.pending} record(s) wait in {spool} (older backlog, "
                f"not sent now); {_sent_by(deliver)}."
            )
        else:
            lines.append(
                f"Phoenix {endpoint}: all delivered and stored ({self.delivered} batches)."
            )
        if self.unknown:
            lines.append(
                f"{self.unknown} record(s) of a kind this version does not deliver stay in "
                f"{spool}: deliver them with the version that queued them."
            )
        if self.dead or self.dead_total:
            dead = Spool(spool).dead_letters
            lines.append(
                f"{max(self.dead, self.dead_total)} record(s) refused {MAX_ATTEMPTS} times wait in "
                f"{dead}; fix the cause, then retry them with "
                f"`{deliver or 'supportbot deliver'} --retry-dead`."
            )
        if self.set_aside:
            lines.append(
                f"{self.set_aside} damaged spool line(s) (cut off by a crash?) were set aside in "
                f"{Spool(spool).rejected}; they cannot be delivered: inspect them."
            )
        return "\n".join(lines)


def _sent_by(deliver: str | None) -> str:
    return f"send them with `{deliver}`" if deliver else "the next run sends them"
