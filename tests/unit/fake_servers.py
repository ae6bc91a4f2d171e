"""Helpers for the FAKE HTTP servers of the unit tests (stdlib only): they stand in for an LLM
server where a test must make it misbehave on demand (echo a key, reply garbage, cut a reply)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Start ``handler`` on a free loopback port in a daemon thread (``shutdown()`` stops it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def send_json(
    handler: BaseHTTPRequestHandler, body: bytes, headers: Iterable[tuple[str, str]] = ()
) -> None:
    """Answer 200 with a JSON ``body`` (and any extra headers)."""
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
