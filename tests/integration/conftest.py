"""Integration fixtures: a real ``phoenix serve`` and replay of the committed cassettes.

LLM calls are replayed from cassettes recorded against the real local model. The LLM base URL
points at a host that does not exist, so anything not in a cassette fails instead of going out;
Phoenix on 127.0.0.1 is passed through to the real server.
"""

from __future__ import annotations

import uuid

import pytest
from integration_helpers import recorded_settings


@pytest.fixture(scope="session")
def phoenix():
    """A real Phoenix server on loopback with a temporary working dir, for the whole session."""
    from devservices.services import PhoenixServer

    with PhoenixServer() as server:
        yield server


@pytest.fixture
def phoenix_url(phoenix) -> str:
    return f"http://localhost:{phoenix.port}"


@pytest.fixture
def phoenix_client(phoenix_url):
    from phoenix.client import Client

    return Client(base_url=phoenix_url)


@pytest.fixture
def project(monkeypatch) -> str:
    """A fresh Phoenix project name per test, so tests never see each other's spans."""
    name = f"it-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PHOENIX_PROJECT_NAME", name)
    return name


@pytest.fixture
def replay_env(monkeypatch, tmp_path):
    """Environment under which the CLI sends exactly the recorded requests, and nothing live."""
    for name in ("OPENAI_API_KEY", "PHOENIX_COLLECTOR_ENDPOINT", "PHOENIX_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in recorded_settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://llm.invalid/v1")
    monkeypatch.setenv("SUPPORTBOT_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)
    return tmp_path
