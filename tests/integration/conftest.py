"""Integration fixtures: a real ``phoenix serve`` and replay of the committed cassettes.

LLM calls are replayed from cassettes recorded against the real local model. The LLM base URL
points at a host that does not exist, so anything not in a cassette fails instead of going out;
Phoenix on 127.0.0.1 is passed through to the real server.
"""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
#: Phoenix is reached as "localhost" inside cassette blocks and passed through by vcrpy; the
#: recorded LLM requests went to 127.0.0.1, which must stay matched (vcrpy drops ignored hosts
#: from a cassette when it loads it).
PHOENIX_HOSTS = ("localhost",)


def recorded_settings() -> dict[str, str]:
    """The model and max_tokens the committed cassettes were recorded with (pyproject ini)."""
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {
        "SUPPORTBOT_MODEL": ini["supportbot_model"],
        "SUPPORTBOT_MAX_TOKENS": ini["supportbot_max_tokens"],
    }


@pytest.fixture(scope="session")
def phoenix():
    """A real Phoenix server on loopback with a temporary working dir, for the whole session."""
    from supportbot.services import PhoenixServer

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


def merged_cassette(tmp_path: Path, golden_ids: list[str]) -> Path:
    """One cassette holding the recorded interactions of several goldens, in order.

    The interactions are copied as recorded (never edited), so that one CLI session that asks
    several golden queries can be replayed.
    """
    interactions = []
    for golden_id in golden_ids:
        data = yaml.safe_load((CASSETTES / f"{golden_id}.yaml").read_text())
        interactions.extend(data["interactions"])
    path = tmp_path / "merged.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


def annotations_by_name(client, project: str, span_ids: list[str]) -> dict[str, list[dict]]:
    found = client.spans.get_span_annotations(span_ids=span_ids, project_identifier=project)
    grouped: dict[str, list[dict]] = {}
    for annotation in found:
        grouped.setdefault(annotation["name"], []).append(annotation)
    return grouped
