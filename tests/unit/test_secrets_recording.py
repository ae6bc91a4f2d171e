"""No secret reaches disk when recording, even when the server echoes it back.

The server here is a FAKE OpenAI-compatible server (``FakeOpenAIServer``, stdlib only): a real
model cannot echo our key back on demand, and the point is to attack the scrubbers with a
response full of secrets: the key in the body, ``set-cookie``, ``openai-organization``,
``openai-project`` and request-id headers.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fake_servers import base_url, send_json, serve
from supportbot.agent import SupportBot

from evals_core.settings import Settings
from evals_core.tracing import memory_provider
from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.recording.cassettes import AtomicPersister, use_cassette

FAKE_KEY = "sk-fakekey-DO-NOT-LEAK-0123456789abcdef"
ORG = "org-FAKEORGANIZATION0123456789"


def _encoded(value: str, encoding: str) -> str:
    """How a hostile server may wrap the key it echoes."""
    if encoding == "base64":
        return base64.b64encode(value.encode()).decode()
    if encoding == "base64url":
        return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    if encoding == "hex":
        return value.encode().hex()
    if encoding == "json-u":
        return "".join(f"\\u{ord(c):04x}" for c in value)
    if encoding == "url":  # every byte percent-encoded, as some servers do
        return "".join(f"%{byte:02X}" for byte in value.encode())
    return value


class _Handler(BaseHTTPRequestHandler):
    #: How the key is echoed in the body (``plain``, ``base64``, ``hex``, ...).
    encoding = "plain"

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        echoed = _encoded(self.headers.get("authorization", ""), self.encoding)
        body = json.dumps(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": json.dumps({"category": "faq", "reasoning": echoed}),
                        },
                    }
                ],
            }
        ).encode()
        send_json(
            self,
            body,
            [
                ("set-cookie", f"session={FAKE_KEY}; Path=/"),
                ("openai-organization", ORG),
                ("openai-project", "proj_FAKEPROJECT0123456789"),
                ("x-request-id", "req_123"),
            ],
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = serve(_Handler)
    yield base_url(server)
    server.shutdown()


def test_recording_with_a_key_writes_no_secret(fake_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    settings = Settings.from_env().with_overrides(base_url=fake_server, max_retries=0)
    provider, _ = memory_provider("secrets-test")
    bot = SupportBot(settings, tracer_provider=provider)
    cassette = tmp_path / "recorded.yaml"
    with use_cassette(cassette, "once"):
        bot.handle("How can I get a refund?")
    text = cassette.read_text()
    assert "chatcmpl-fake" in text  # the interaction was recorded...
    for leaked in (FAKE_KEY, ORG, "proj_FAKEPROJECT", "req_123"):
        assert leaked not in text  # ...without any secret
    assert "authorization" not in text.lower()
    assert "set-cookie" not in text.lower()
    assert "<REDACTED>" in text  # the echoed key was scrubbed from the response body
    assert secrets.scan_text(text, str(cassette), env={"OPENAI_API_KEY": FAKE_KEY}) == []


@pytest.mark.parametrize("encoding", ["base64", "base64url", "hex", "json-u", "url"])
def test_a_key_echoed_in_any_encoding_never_reaches_the_cassette(
    fake_server, tmp_path, monkeypatch, encoding
):
    monkeypatch.setattr(_Handler, "encoding", encoding)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    settings = Settings.from_env().with_overrides(base_url=fake_server, max_retries=0)
    provider, _ = memory_provider("secrets-test")
    bot = SupportBot(settings, tracer_provider=provider)
    cassette = tmp_path / "recorded.yaml"

    with pytest.raises(secrets.SecretFoundError) as error, use_cassette(cassette, "all"):
        bot.handle("How can I get a refund?")

    assert not cassette.exists()
    assert "encoded" in str(error.value) or "escaped" in str(error.value)
    assert FAKE_KEY not in str(error.value)
    assert list(tmp_path.iterdir()) == []  # no temp file left behind


def test_a_cassette_that_would_hold_a_secret_is_not_written(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path / "case.yaml"
    path.write_text("previous recording\n")
    from vcr.request import Request
    from vcr.serializers import yamlserializer

    request = Request("POST", "http://127.0.0.1/v1/chat/completions", b"{}", {"x-custom": FAKE_KEY})
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}}
    with pytest.raises(secrets.SecretFoundError, match="openai-style key") as error:
        AtomicPersister.save_cassette(
            path, {"requests": [request], "responses": [response]}, yamlserializer
        )
    assert FAKE_KEY not in str(error.value)  # the report of a leak is not a leak
    assert path.read_text() == "previous recording\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.yaml"]  # no temp file left behind


@pytest.mark.parametrize(
    ("planted", "secret"),
    [
        (f"  x: {FAKE_KEY}", FAKE_KEY),
        (f"  x: {ORG}", ORG),
        ("  x: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
        ("  authorization:\n  - anything", None),
        ("  x: proj_ABCDEFGHIJKLMNOPQRS", "proj_ABCDEFGHIJKLMNOPQRS"),
        *[
            (f"  x: {_encoded(' ' + FAKE_KEY, encoding)}", FAKE_KEY)
            for encoding in ("base64", "base64url", "hex", "json-u", "url")
        ],
    ],
    ids=[
        "key",
        "org",
        "bearer",
        "header",
        "project",
        "base64",
        "base64url",
        "hex",
        "json-u",
        "url",
    ],
)
def test_check_secrets_fails_on_a_planted_secret(tmp_path, planted, secret):
    folder = tmp_path / "cassettes"
    folder.mkdir()
    (folder / "ok.yaml").write_text("interactions: []\n")
    command = [
        sys.executable,
        "-m",
        "pytest_supportbot_evals.cli",
        "check-secrets",
        str(folder),
    ]
    clean = subprocess.run(command, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (folder / "leak.yaml").write_text(f"headers:\n{planted}\n")
    dirty = subprocess.run(command, capture_output=True, text=True, check=False)
    assert dirty.returncode == 1
    assert "leak.yaml" in dirty.stdout
    if secret:
        assert secret not in dirty.stdout + dirty.stderr


def test_committed_cassettes_and_baseline_hold_no_secret():
    root = Path(__file__).resolve().parents[2]
    paths = [root / "cassettes", root / "tests" / "evals"]
    paths += [root / "tests" / suite / "cassettes" for suite in ("conversations", "robustness")]
    assert secrets.scan_paths(paths) == []


def run_check(cwd, *args):
    command = [sys.executable, "-m", "pytest_supportbot_evals.cli", "check-secrets", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)


def test_check_secrets_by_default_scans_goldens_spool_and_every_suite(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nsupportbot_cassettes = "recorded"\n'
        'evals_goldens = "my_goldens"\n'
    )
    for folder in ("recorded", "my_goldens", "tests/suite/cassettes", ".evals"):
        (tmp_path / folder).mkdir(parents=True)
    assert run_check(tmp_path).returncode == 0
    spool_line = base64.b64encode(f"span attribute input.value={FAKE_KEY}".encode()).decode()
    plants = {
        "my_goldens/exported.yaml": f"cases:\n  - id: x\n    query: '{FAKE_KEY}'\n",
        "tests/suite/cassettes/case.yaml": f"body: {_encoded(' ' + FAKE_KEY, 'hex')}\n",
        ".evals/phoenix-spool.jsonl": json.dumps({"kind": "spans", "payload": spool_line}),
    }
    for name, text in plants.items():
        (tmp_path / name).write_text(text)
        result = run_check(tmp_path)
        assert result.returncode == 1, name
        assert name.split("/")[-1] in result.stdout
        assert FAKE_KEY not in result.stdout + result.stderr
        (tmp_path / name).unlink()


def test_check_secrets_refuses_paths_that_do_not_exist(tmp_path):
    result = run_check(tmp_path, "no-such-folder")
    assert result.returncode == 2
    assert "no-such-folder: no such file or folder" in result.stderr
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nsupportbot_cassettes = "gone"\n'
    )
    result = run_check(tmp_path)
    assert result.returncode == 2 and "ini evals_cassettes" in result.stderr


def test_a_refused_save_leaves_later_recordings_in_the_process_intact(
    fake_server, tmp_path, monkeypatch
):
    """A cassette refused at save time (a secret) must not leave vcrpy's patching behind: the
    next recordings of the same process go to their own cassettes. (Raised inside vcrpy's exit,
    the refusal once left a patch that sent the fourth recording of this sequence to an earlier,
    refused cassette: unrecorded, and so unchecked.)"""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    for n, encoding in enumerate(("base64", "base64url", "hex", "json-u")):
        monkeypatch.setattr(_Handler, "encoding", encoding)
        settings = Settings.from_env().with_overrides(base_url=fake_server, max_retries=0)
        bot = SupportBot(settings, tracer_provider=memory_provider("refused")[0])
        with (
            pytest.raises(secrets.SecretFoundError),
            use_cassette(tmp_path / f"{n}.yaml", "all") as use,
        ):
            bot.handle("How can I get a refund?")
            assert len(use.recorded()) == 2, encoding  # in this cassette, not an earlier one
