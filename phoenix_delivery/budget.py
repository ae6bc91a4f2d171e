"""One overall time budget for every network wait of a command: an HTTP client that cannot be
held past its deadline, not even by a server that trickles one byte every few seconds.

httpx's timeouts bound each *single* socket operation (connect, one read, one write), so a server
that sends a byte every 5 s keeps a request alive for ever under a 10 s read timeout. The client
built here checks the deadline on every socket operation instead: each read or write waits at
most what is left of the budget, and none starts once the budget is spent (an
``httpx.ReadTimeout``/``ConnectTimeout`` saying so).
"""

from __future__ import annotations

import time
from typing import Any

import httpcore

#: Defaults (seconds) when ``SUPPORTBOT_PHOENIX_BUDGET``/``EVALS_PHOENIX_BUDGET`` is not set:
#: a foreground command (ask, chat, evaluate) gives Phoenix at most this long at its end...
FOREGROUND_BUDGET = 15.0
#: ...and ``supportbot deliver`` and the eval plugin's end-of-run delivery at most this long.
DELIVERY_BUDGET = 60.0


class Deadline:
    """A point in ``time.monotonic()`` after which nothing more waits on the network."""

    def __init__(self, seconds: float) -> None:
        self.restart(seconds)

    def restart(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.left() <= 0.0

    def cap(self, timeout: float | None) -> float:
        """``timeout`` cut to what is left (never ``None``: no wait is unbounded)."""
        left = self.left()
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        if self._deadline.passed:
            raise error(f"the {self._deadline.seconds:g} s network budget is spent")
        return self._deadline.cap(timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(*args, **kwargs), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._inner, self._deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, **kwargs: Any
    ) -> httpcore.NetworkStream:
        if self._deadline.passed:
            raise httpcore.ConnectTimeout(f"the {self._deadline.seconds:g} s budget is spent")
        stream = self._inner.connect_tcp(host, port, self._deadline.cap(timeout), **kwargs)
        return _Stream(stream, self._deadline)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(*args, **kwargs), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def client(
    deadline: Deadline, *, api_key: str | None = None, timeout: float = 10.0, **kwargs: Any
) -> Any:
    """An ``httpx.Client`` whose every socket operation ends by ``deadline``; with ``api_key``,
    it sends Phoenix's bearer authorization."""
    import httpx

    if api_key:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "authorization": f"Bearer {api_key}"}
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = _Backend(deadline)  # no public hook for a backend
    return httpx.Client(transport=transport, timeout=timeout, **kwargs)
