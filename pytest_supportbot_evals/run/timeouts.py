"""A per-golden time limit: a hanging agent becomes one failed, named golden, and the run goes on.

The limit interrupts the agent with ``SIGALRM`` (its stack unwinds, so its cassette is left
properly and nothing of the hang leaks into the next golden). It applies in the main thread of a
POSIX process, where pytest (and each pytest-xdist worker) runs tests; elsewhere there is no
limit. A timer set by someone else (pytest-timeout's signal method) is put back afterwards.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Default seconds a golden (all its turns, judges included) may take: generous, since a
#: recording run waits on a local model.
DEFAULT_GOLDEN_TIMEOUT = 600.0


def parse(raw: str, error: type[Exception]) -> float | None:
    """The ini's ``supportbot_golden_timeout`` in seconds (``None``: no limit); ``error`` names
    the setting when it is not a number of seconds."""
    try:
        seconds = float(raw or DEFAULT_GOLDEN_TIMEOUT)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise error(f"ini evals_golden_timeout={raw!r}: give seconds (a number; 0 for no limit).")
    return seconds or None


class GoldenTimeout(BaseException):
    """The golden ran past its time limit. A ``BaseException`` (as ``KeyboardInterrupt``), so
    that an agent's ``except Exception`` fallback cannot swallow it into a passing answer."""


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise ``GoldenTimeout`` in the block once ``seconds`` have passed (``None``/0: none)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise GoldenTimeout(
            f"{what} did not finish within {seconds:g} s (ini evals_golden_timeout); it was "
            "stopped and counts as failed. A hanging agent or LLM server? Raise the limit if it "
            "is just slow."
        )

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # someone else's timer: put back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))
