"""Start the local services that developers and the test-suite need, each with one call.

Why: the Phoenix server and a llama.cpp server are heavy, optional dependencies. Living in
venvs of their own keeps the project's environment (and import time) small; these helpers
make "a healthy server on a free loopback port, cleaned up afterwards" one call for tests
and scripts. Stdlib only, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
#: The Phoenix server version the integration tests run against (pinned for reproducible CI).
PHOENIX_SERVER = "arize-phoenix==20.26.1"
_CACHE = Path.home() / ".cache" / "supportbot"
# An opener without proxies: a developer's http_proxy must never intercept loopback probes.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServiceError(RuntimeError):
    """A local service could not be installed or started; the message says where to look."""


def env_path(var: str, name: str) -> Path:
    """An env var overrides the ~/.cache default so CI and developers can share one install."""
    return Path(os.environ.get(var) or _CACHE / name)


def ensure_venv(venv_dir: Path, packages: list[str], exe: str, env: dict[str, str]) -> Path:
    """Create ``venv_dir`` and pip install ``packages`` unless ``bin/<exe>`` already exists.

    Checking for the executable (not the directory) makes a half-finished install retry.
    pip's chatter goes to a log next to the venv so a failure can be diagnosed afterwards.
    """
    target = venv_dir / "bin" / exe
    if target.exists():
        return target
    log_path = venv_dir.with_name(venv_dir.name + "-install.log")
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    print(f"supportbot: installing {packages} into {venv_dir}, log {log_path}", file=sys.stderr)
    with log_path.open("w") as log:
        steps = [
            [sys.executable, "-m", "venv", str(venv_dir)],
            [str(venv_dir / "bin" / "python"), "-m", "pip", "install", *packages],
        ]
        for cmd in steps:
            print(f"supportbot: running {' '.join(cmd)}", file=sys.stderr)
            result = subprocess.run(
                cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}, check=False
            )
            if result.returncode != 0:
                raise ServiceError(f"{cmd[0]} failed ({result.returncode}); see {log_path}")
    if not target.exists():
        raise ServiceError(f"install finished but {target} is missing; see {log_path}")
    print(f"supportbot: {target} ready", file=sys.stderr)
    return target


def ensure_phoenix_venv(venv_dir: Path | None = None) -> Path:
    """Return the ``phoenix`` executable, installing arize-phoenix into its own venv if needed."""
    venv_dir = venv_dir or env_path("SUPPORTBOT_PHOENIX_VENV", "phoenix-venv")
    return ensure_venv(venv_dir, [PHOENIX_SERVER], "phoenix", {})


def free_port() -> int:
    """Ask the kernel for a free loopback port (racy in theory, fine for local services)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _get_status(url: str) -> int | None:
    """Return the HTTP status of GET ``url``, or None if nothing answers yet."""
    try:
        with _OPENER.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


class Started:
    """A service used as a context manager: ``start()`` on entry (``close()`` if that fails),
    ``close()`` on exit."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Server(Started):
    """A child process on a fixed loopback port with its own temporary working dir.

    The port and directory are chosen once, so ``restart()`` brings the service back at the
    same URL with the same data: tests stop a server mid-run and expect clients to recover.
    The child gets its own session so stopping kills its whole process group.
    """

    name = "service"
    health_paths: tuple[str, str] = ("/health", "/")

    def __init__(self, port: int | None, timeout: float) -> None:
        self._port = port or free_port()
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix=f"supportbot-{self.name}-")
        self.workdir = Path(self._tmp.name)
        self._proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def _log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def _healthy(self) -> bool:
        """True once the primary health path is 200, or it 404s and the fallback is 200."""
        primary, fallback = self.health_paths
        status = _get_status(self.url + primary)
        return status == 200 or (status == 404 and _get_status(self.url + fallback) == 200)

    def start(self) -> None:
        """Launch the process (no-op if running) and block until it is healthy."""
        if self._proc is not None and self._proc.poll() is None:
            return
        command = self._command()  # may install first: not part of the start-up timeout
        begin = time.monotonic()
        with self.log_path.open("ab") as log:  # append: keep the history across restarts
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=self._env(),
                start_new_session=True,
            )
        while not self._healthy():
            code = self._proc.poll()
            if code is not None or time.monotonic() - begin > self.timeout:
                self.stop()
                why = f"exited ({code})" if code is not None else f"unhealthy after {self.timeout}s"
                raise ServiceError(f"{self.name} {why}; log {self.log_path}:\n{self._log_tail()}")
            time.sleep(0.25)
        self.start_seconds = time.monotonic() - begin

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 10 s; safe to call repeatedly."""
        self._end(graceful=True)

    def kill(self) -> None:
        """SIGKILL the process group at once, as a crash would (no shutdown, nothing flushed)."""
        self._end(graceful=False)

    def _end(self, graceful: bool) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if graceful:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10.0)
        with contextlib.suppress(ProcessLookupError):  # the child if stuck, and stray grandchildren
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart(self) -> None:
        """Stop and start again on the same port and working dir, so data persists."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the process and delete the working directory."""
        self.stop()
        self._tmp.cleanup()


class PhoenixServer(Server):
    """A throw-away Phoenix server whose data lives in a temporary working dir."""

    name = "phoenix"
    health_paths = ("/healthz", "/")

    def __init__(
        self, port: int | None = None, timeout: float = 90.0, phoenix: Path | None = None
    ) -> None:
        super().__init__(port, timeout)
        self.phoenix = phoenix
        self.grpc_port = free_port()  # OTLP/gRPC; chosen once so restart() keeps it too
        while self.grpc_port == self._port:
            self.grpc_port = free_port()

    def _command(self) -> list[str]:
        self.phoenix = self.phoenix or ensure_phoenix_venv()
        return [str(self.phoenix), "serve"]

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env.pop("PHOENIX_COLLECTOR_ENDPOINT", None)  # the server must not trace to itself
        env.update(
            PHOENIX_WORKING_DIR=str(self.workdir),
            PHOENIX_PORT=str(self._port),
            PHOENIX_HOST=HOST,
            PHOENIX_GRPC_PORT=str(self.grpc_port),
            PHOENIX_TELEMETRY_ENABLED="false",
        )
        return env
