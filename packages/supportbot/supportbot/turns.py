"""What SupportBot keeps of a session and returns per query: the turns of a conversation (what
the next turn sees) and the result of one query."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any

from supportbot.classification import ORDER_ID


@dataclass(frozen=True)
class Turn:
    """One answered query of a session, as the next turns see it."""

    query: str
    response: str
    #: The order the turn was about, so that "When will it arrive?" knows which one.
    order_id: str | None = None


@dataclass(frozen=True)
class AgentResult:
    """What ``SupportBot.handle`` returns; ``span_id`` is where user feedback is attached."""

    query: str
    response: str
    category: str
    span_id: str
    trace_id: str
    session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def order_id_of(query: str, history: Sequence[Turn]) -> str | None:
    """The order id the query names, else the one its conversation was last about."""
    match = ORDER_ID.search(query)
    if match is not None:
        return match.group(0).upper()
    return next((turn.order_id for turn in reversed(history) if turn.order_id), None)


@contextmanager
def session_context(session_id: str | None) -> Iterator[None]:
    if not session_id:
        with nullcontext():
            yield
        return
    from openinference.instrumentation import using_session

    with using_session(session_id):
        yield
