"""A recording that goes wrong never overwrites what was recorded before.

Servers here: nothing listening (127.0.0.1:9), and a FAKE server answering HTTP 500 with garbage
(a real model cannot be made to fail on demand).
"""

from __future__ import annotations

import shutil
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fake_servers import base_url, serve
from supportbot.agent import SupportBot

from evals_core.settings import Settings
from evals_core.tracing import memory_provider
from pytest_supportbot_evals.config.contract import AgentSpec
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.run.goldens import GoldenCase
from pytest_supportbot_evals.run.reference import supportbot_agent
from pytest_supportbot_evals.run.runner import Runner, run_golden

ROOT = Path(__file__).resolve().parents[2]
CASE = GoldenCase(
    id="tutorial-refund",
    query="How can I get a refund?",
    expect={"category": "faq", "retrieval_relevance": "relevant"},
)


class _Garbage(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(500)
        self.send_header("content-length", "9")
        self.end_headers()
        self.wfile.write(b"<garbage>")

    def log_message(self, *args):
        pass


@pytest.fixture
def garbage_server():
    server = serve(_Garbage)
    yield base_url(server)
    server.shutdown()


@pytest.fixture
def recorded(tmp_path) -> Path:
    path = tmp_path / "tutorial-refund.yaml"
    shutil.copy(ROOT / "cassettes" / "tutorial-refund.yaml", path)
    return path


def record(base_url: str, cassette: Path, mode: str):
    settings = Settings.from_env({}).with_overrides(
        base_url=base_url, max_retries=0, request_timeout=5.0
    )
    provider, exporter = memory_provider("recording-failures")
    bot = SupportBot(settings, tracer_provider=provider)
    runner = Runner(supportbot_agent(bot), exporter, reference_registry())
    (result,) = run_golden(runner, CASE, cassette, mode)
    return result


@pytest.mark.parametrize("mode", ["rewrite", "all", "new_episodes"])
def test_unreachable_server_leaves_the_previous_cassette_intact(recorded, mode):
    before = recorded.read_bytes()
    result = record("http://127.0.0.1:9/v1", recorded, mode)
    assert result.error and "Nothing was written" in result.error
    assert "APIConnectionError" in result.error
    assert recorded.read_bytes() == before


def test_server_errors_leave_the_previous_cassette_intact(recorded, garbage_server):
    before = recorded.read_bytes()
    result = record(garbage_server, recorded, "rewrite")
    assert "InternalServerError" in result.error and "Nothing was written" in result.error
    assert recorded.read_bytes() == before


def test_a_failed_first_recording_writes_no_cassette(tmp_path, garbage_server):
    cassette = tmp_path / "new.yaml"
    result = record(garbage_server, cassette, "once")
    assert "Nothing was written" in result.error
    assert not cassette.exists()


def interrupted_agent(query):
    """A FAKE agent that is interrupted (Ctrl-C) in the middle of a query."""
    raise KeyboardInterrupt


def test_an_interrupted_recording_leaves_the_previous_cassette_intact(recorded):
    before = recorded.read_bytes()
    _, exporter = memory_provider("interrupted")
    with pytest.raises(KeyboardInterrupt):
        runner = Runner(AgentSpec(interrupted_agent), exporter, reference_registry())
        run_golden(runner, CASE, recorded, "rewrite")
    assert recorded.read_bytes() == before
    assert [p.name for p in recorded.parent.iterdir()] == [recorded.name]
