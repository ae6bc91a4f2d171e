"""Several local models behind one loopback endpoint, chosen by each request's ``model``.

The agent classifies (and the judge labels) with one model and answers with another (ini
``evals_model`` / ``evals_answer_model``): one llama.cpp server per model, each on its own free
loopback port and served exactly as :class:`devservices.llm_server.LlmServer` serves it alone
(prompt cache off), and a small stdlib HTTP proxy that forwards each request to the server of
the model it names. A name no local model has goes to the first (the recording model), so a
run that names one model for everything still works. Used only to record cassettes.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devservices.llm_server import ANSWER_MODEL, RECORDING_MODEL, LlmServer, LocalModel
from devservices.services import HOST, Started, free_port

#: Seconds the proxy waits for a model's reply (a long answer on a busy CPU takes minutes).
FORWARD_TIMEOUT = 900.0


class ModelRouter(Started):
    """Local models (the first is the default) behind one OpenAI-compatible base URL."""

    def __init__(
        self,
        models: Sequence[LocalModel] = (RECORDING_MODEL, ANSWER_MODEL),
        port: int | None = None,
        threads: int = 1,
    ) -> None:
        self.models = tuple(dict.fromkeys(models))
        self.servers = {m.name: LlmServer(local_model=m, threads=threads) for m in self.models}
        self._port = port or free_port()
        self._httpd: ThreadingHTTPServer | None = None
        self._stack = contextlib.ExitStack()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def log_path(self) -> Path:
        """The default model's server log (each server logs in its own working dir)."""
        return self.servers[self.models[0].name].log_path

    def backend(self, model: object) -> str:
        """The URL of the server that serves ``model`` (the default one for unknown names)."""
        server = self.servers.get(model) if isinstance(model, str) else None
        return (server or self.servers[self.models[0].name]).url

    def start(self) -> None:
        for server in self.servers.values():
            self._stack.enter_context(server)
        self._httpd = ThreadingHTTPServer((HOST, self._port), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._stack.close()


def _handler(router: ModelRouter) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the servers behind log every request."""

        def do_GET(self) -> None:
            self._forward(router.backend(None), None)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                model = json.loads(body).get("model")
            except (ValueError, AttributeError):
                model = None
            self._forward(router.backend(model), body)

        def _forward(self, backend: str, body: bytes | None) -> None:
            headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
            request = urllib.request.Request(
                backend + self.path, data=body, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as reply:
                    status, payload, kind = reply.status, reply.read(), reply.headers
            except urllib.error.HTTPError as error:
                status, payload, kind = error.code, error.read(), error.headers
            except OSError as error:
                status, kind = 502, None
                payload = json.dumps({"error": {"message": f"model server: {error}"}}).encode()
            self.send_response(status)
            content_type = kind.get("Content-Type") if kind else None
            self.send_header("Content-Type", content_type or "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Forward
