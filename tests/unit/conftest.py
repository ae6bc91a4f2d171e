"""Shared helpers for unit tests that replay the committed cassettes.

Replays build the agent and the judge exactly as the pytest plugin does (plugin.py fixtures
``supportbot_tracing``/``supportbot_bot``/``supportbot_relevance_judge``, config.py ``build``),
so that every request is byte-for-byte the recorded one. LLM replies only ever come from the
cassettes; nothing here writes a cassette (record mode is always ``none``).
"""

import json
import tomllib
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from evals_core.settings import Settings
from evals_core.spans import SpanView
from pytest_supportbot_evals.recording.cassettes import use_cassette
from pytest_supportbot_evals.recording.misses import explain_miss
from pytest_supportbot_evals.run.steps import recorded_step

ROOT = Path(__file__).resolve().parents[2]
CASSETTE_DIR = ROOT / "cassettes"
GOLDEN_DIR = ROOT / "tests" / "goldens"


def ini_options():
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["pytest"]["ini_options"]


def replay_settings():
    """The settings the plugin replays with: env ignored, model and max_tokens from the ini."""
    ini = ini_options()
    return Settings.from_env(env={}).with_overrides(
        model=ini["evals_model"],
        answer_model=ini.get("evals_answer_model") or None,
        judge_model=ini.get("evals_judge_model") or None,
        max_tokens=int(ini["evals_max_tokens"]),
        classify_max_tokens=int(ini["evals_classify_max_tokens"]),
        judge_max_tokens=int(ini["evals_judge_max_tokens"]),
        classify_top_logprobs=int(ini.get("evals_classify_top_logprobs") or 0),
        max_retries=0,
    )


def judge_method():
    return ini_options().get("evals_judge_method") or "auto"


def cassette_path(golden_id):
    path = CASSETTE_DIR / f"{golden_id}.yaml"
    if not path.exists():
        pytest.fail(f"no committed cassette for golden {golden_id!r} at {path}", pytrace=False)
    return path


def recorded_interactions(golden_id):
    """[(step, request body, response body)] of a cassette, bodies parsed as JSON."""
    data = yaml.safe_load(cassette_path(golden_id).read_text(encoding="utf-8"))
    result = []
    for item in data["interactions"]:
        request, response = item["request"], item["response"]
        step = recorded_step(request["headers"]) or "?"
        body = response["body"]["string"]
        body = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            parsed = json.loads(body)
        except json.JSONDecodeError:
            parsed = body
        result.append((step, json.loads(request["body"]), response["status"]["code"], parsed))
    return result


def recorded_steps(golden_id):
    return [step for step, *_ in recorded_interactions(golden_id)]


def reply_text(response):
    """The assistant's text in a recorded chat completion (content, or tool-call arguments)."""
    message = response["choices"][0]["message"]
    if message.get("content"):
        return message["content"]
    calls = message.get("tool_calls") or []
    return calls[0]["function"]["arguments"] if calls else ""


@contextmanager
def replay(golden_id):
    """Replay one golden's cassette; a request that is not in it fails the test."""
    with use_cassette(cassette_path(golden_id), "none") as use:
        try:
            yield use
        except Exception:
            if use.misses:  # the miss, not the exception it caused, is what went wrong
                pytest.fail(explain_miss(use, golden_id), pytrace=False)
            raise
    if use.misses:
        pytest.fail(explain_miss(use, golden_id), pytrace=False)


@pytest.fixture(scope="session")
def cassettes():
    """The helpers above, for test modules (importing conftest is fragile)."""
    return SimpleNamespace(
        path=cassette_path,
        exists=lambda golden_id: (CASSETTE_DIR / f"{golden_id}.yaml").exists(),
        interactions=recorded_interactions,
        steps=recorded_steps,
        reply_text=reply_text,
        replay=replay,
        settings=replay_settings,
        judge_method=judge_method,
        one=one,
    )


@pytest.fixture
def make_bot():
    """Factory: (SupportBot, in-memory exporter), each bot on its own provider."""
    from supportbot.agent import SupportBot

    from evals_core.tracing import memory_provider

    providers = []

    def build(settings=None):
        settings = settings or replay_settings()
        provider, exporter = memory_provider(settings.phoenix_project)
        providers.append(provider)
        return SupportBot(settings, tracer_provider=provider), exporter

    yield build
    for provider in providers:
        provider.shutdown()


@pytest.fixture
def run_golden(make_bot):
    """Run a golden's query replayed from its cassette: (result, [SpanView], [ReadableSpan])."""
    from pytest_supportbot_evals.run.goldens import load_goldens

    cases = {c.id: c for c in load_goldens([GOLDEN_DIR])}

    def run(golden_id, session_id=None, bot=None):
        bot, exporter = bot or make_bot()
        with replay(golden_id):
            result = bot.handle(cases[golden_id].query, session_id=session_id)
        spans = list(exporter.get_finished_spans())
        return result, [SpanView.from_otel(s) for s in spans], spans

    return run


def one(spans, **where):
    """The single span whose fields match ``where``."""
    found = [s for s in spans if all(getattr(s, k) == v for k, v in where.items())]
    assert len(found) == 1, f"expected one span with {where}, got {[s.name for s in found]}"
    return found[0]
