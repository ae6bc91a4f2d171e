"""``supportbot serve phoenix|llm``: run one local service in the foreground until Ctrl-C.

Loopback only, health-checked before the URL is printed, and cleaned up on exit (the Phoenix
server's temporary working dir included).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading


def serve(kind: str, port: int | None = None) -> int:
    from devservices.llm_server import LlmServer
    from devservices.services import PhoenixServer

    server = PhoenixServer(port=port) if kind == "phoenix" else LlmServer(port=port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        if kind == "phoenix":
            print(f"Phoenix is up at {server.url}")
            print(f"  export PHOENIX_COLLECTOR_ENDPOINT={server.url}")
        else:
            print(f"LLM server is up at {server.base_url}")  # type: ignore[attr-defined]
            print(f"  export OPENAI_BASE_URL={server.base_url}")  # type: ignore[attr-defined]
        print(f"  log: {server.log_path}   (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("stopped", file=sys.stderr)
    return 0
