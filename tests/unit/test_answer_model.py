"""The answer steps may ask their own model (ini evals_answer_model), and the local recording
server routes each request to the model it names."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from devservices.llm_router import ModelRouter
from devservices.llm_server import GEMMA, SMOLLM2
from supportbot.agent import SupportBot

from evals_core.settings import Settings, SettingsError


class Client:
    """An OpenAI client's ``chat.completions.create`` that records what each call asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.chat = self.completions = self

    def create(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        content = '{"category":"faq"}' if "response_format" in kwargs else "An answer."
        message = SimpleNamespace(content=content)
        return SimpleNamespace(choices=[SimpleNamespace(message=message, logprobs=None)])


def asked_models(settings: Settings) -> list[tuple[bool, str]]:
    client = Client()
    bot = SupportBot(settings, client=client)  # type: ignore[arg-type]
    bot.handle("How do I reset my password?")
    return [("response_format" in call, call["model"]) for call in client.calls]


def test_answer_steps_ask_the_answer_model_and_classification_the_model():
    settings = Settings(model="classifier", answer_model="answerer")

    assert asked_models(settings) == [(True, "classifier"), (False, "answerer")]


def test_without_an_answer_model_one_model_does_every_step():
    assert asked_models(Settings(model="only")) == [(True, "only"), (False, "only")]


def test_answer_model_from_the_environment_under_either_name():
    assert Settings.from_env({"SUPPORTBOT_ANSWER_MODEL": "a"}).effective_answer_model == "a"
    assert Settings.from_env({"EVALS_ANSWER_MODEL": "b"}).answer_model == "b"
    assert Settings.from_env({"SUPPORTBOT_MODEL": "m"}).effective_answer_model == "m"
    with pytest.raises(SettingsError, match="EVALS_ANSWER_MODEL"):
        Settings.from_env({"EVALS_ANSWER_MODEL": "a", "SUPPORTBOT_ANSWER_MODEL": "b"})


class Named:
    """A stand-in model server on a loopback port that answers with its own name."""

    def __init__(self, name: str) -> None:
        class Reply(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self._send({"server": name, "asked": json.loads(body)["model"]})

            def do_GET(self) -> None:
                self._send({"server": name})

            def _send(self, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Reply)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self) -> Named:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def post(url: str, model: Any) -> dict[str, Any]:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps({"model": model, "messages": []}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def test_the_router_sends_each_request_to_the_server_of_the_model_it_names():
    router = ModelRouter((SMOLLM2, GEMMA))
    router.servers = {SMOLLM2.name: Named("small"), GEMMA.name: Named("gemma")}  # type: ignore[dict-item]
    with router:
        assert post(router.base_url, GEMMA.name) == {"server": "gemma", "asked": GEMMA.name}
        assert post(router.base_url, SMOLLM2.name)["server"] == "small"
        # a name no local model has (a run naming one model for everything): the first model
        assert post(router.base_url, "gpt-4o-mini")["server"] == "small"
        with urllib.request.urlopen(router.base_url + "/models", timeout=10) as reply:
            assert json.loads(reply.read()) == {"server": "small"}
