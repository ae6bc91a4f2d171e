"""A hanging agent is one failed, named golden and the next golden runs; an empty cassette is
"empty cassette, re-record". The hanging LLM server is a FAKE (a real one cannot hang on demand)."""

from __future__ import annotations

import shutil
import signal
import time
import tomllib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fake_servers import base_url, serve
from supportbot.agent import SupportBot

from evals_core.settings import Settings
from evals_core.tracing import memory_provider
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.run import timeouts
from pytest_supportbot_evals.run.goldens import GoldenCase
from pytest_supportbot_evals.run.reference import supportbot_agent
from pytest_supportbot_evals.run.runner import Runner, run_golden

ROOT = Path(__file__).resolve().parents[2]
REFUND = GoldenCase(
    id="tutorial-refund",
    query="How can I get a refund?",
    expect={"category": "faq", "retrieval_relevance": "relevant"},
)


class _Hang(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(30)

    def log_message(self, *args):
        pass


@pytest.fixture
def hanging_server():
    server = serve(_Hang)
    yield base_url(server)
    server.shutdown()


def runner(url: str | None, timeout: float | None) -> Runner:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        ini = tomllib.load(handle)["tool"]["pytest"]["ini_options"]  # the recorded settings
    settings = Settings.from_env({}).with_overrides(
        base_url=url or "http://llm.invalid/v1",
        max_retries=0,
        request_timeout=60.0,
        model=ini["evals_model"],
        answer_model=ini.get("evals_answer_model") or None,
        max_tokens=int(ini["evals_max_tokens"]),
        classify_max_tokens=int(ini["evals_classify_max_tokens"]),
        judge_max_tokens=int(ini["evals_judge_max_tokens"]),
    )
    provider, exporter = memory_provider("golden-limits")
    bot = SupportBot(settings, tracer_provider=provider)
    return Runner(supportbot_agent(bot), exporter, reference_registry(), timeout=timeout)


def test_a_hanging_agent_fails_its_golden_by_name_and_the_next_one_runs(hanging_server, tmp_path):
    started = time.monotonic()
    (hung,) = run_golden(runner(hanging_server, 1.5), REFUND, tmp_path / "hung.yaml", "all")
    assert time.monotonic() - started < 10
    assert "golden tutorial-refund did not finish within 1.5 s" in (hung.error or "")
    assert "evals_golden_timeout" in hung.error
    assert not (tmp_path / "hung.yaml").exists()  # nothing half-recorded kept

    cassette = tmp_path / "tutorial-refund.yaml"
    shutil.copy(ROOT / "cassettes" / "tutorial-refund.yaml", cassette)
    (replayed,) = run_golden(runner(None, 30), REFUND, cassette, "none")
    assert replayed.error is None, replayed.error
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_empty_cassette_file_is_named_empty_not_a_miss(tmp_path):
    cassette = tmp_path / "tutorial-refund.yaml"
    cassette.write_text("")
    (result,) = run_golden(runner(None, None), REFUND, cassette, "none")
    assert "empty cassette, re-record" in (result.error or "")
    assert str(cassette) in result.error and "miss" not in result.error.lower()


def test_an_outer_timer_is_put_back():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5)
        with timeouts.time_limit(1, "x"):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 3 < left <= 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("raw", ["soon", "-1", "inf", "nan"])
def test_a_bad_timeout_setting_is_named(raw):
    with pytest.raises(ValueError, match="evals_golden_timeout"):
        timeouts.parse(raw, ValueError)
    assert timeouts.parse("", ValueError) == timeouts.DEFAULT_GOLDEN_TIMEOUT
    assert timeouts.parse("0", ValueError) is None
