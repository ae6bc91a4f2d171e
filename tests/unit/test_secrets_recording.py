"""No secret reaches disk when recording, even when the server echoes it back.

The server here is a FAKE OpenAI-compatible server (``FakeOpenAIServer``, stdlib only): a real
model cannot echo our key back on demand, and the point is to attack the scrubbers with a
response full of secrets: the key in the body, ``set-cookie``, ``openai-organization``,
``openai-project`` and request-id headers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pytest_supportbot_evals import secrets
from pytest_supportbot_evals.cassettes import AtomicPersister, use_cassette
from supportbot.agent import SupportBot
from supportbot.settings import Settings
from supportbot.tracing import memory_provider

FAKE_KEY = "sk-fakekey-DO-NOT-LEAK-0123456789abcdef"
ORG = "org-FAKEORGANIZATION0123456789"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        echoed = self.headers.get("authorization", "")
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
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("set-cookie", f"session={FAKE_KEY}; Path=/")
        self.send_header("openai-organization", ORG)
        self.send_header("openai-project", "proj_FAKEPROJECT0123456789")
        self.send_header("x-request-id", "req_123")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
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
    ],
)
def test_check_secrets_fails_on_a_planted_secret(tmp_path, planted, secret):
    folder = tmp_path / "cassettes"
    folder.mkdir()
    (folder / "ok.yaml").write_text("interactions: []\n")
    command = [sys.executable, "-m", "pytest_supportbot_evals.cli", "check-secrets", str(folder)]
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
