"""The recording health check: at record time (``run_golden``) and over cassette files
(``evals check-cassettes``).

Unusable replies are PLANTED here: in a FAKE server's answers, or in a temporary copy of a
committed cassette (a real model cannot be made to emit them on demand). Committed cassettes are
never touched.
"""

from __future__ import annotations

import json
import shutil
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml
from fake_servers import base_url, send_json, serve
from supportbot.agent import SupportBot

from evals_core.settings import Settings
from evals_core.tracing import memory_provider
from pytest_supportbot_evals.cli import main as cli
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.recording import health
from pytest_supportbot_evals.run.goldens import GoldenCase
from pytest_supportbot_evals.run.reference import supportbot_agent
from pytest_supportbot_evals.run.runner import Runner, run_golden
from pytest_supportbot_evals.run.steps import recorded_step

ROOT = Path(__file__).resolve().parents[2]
CASE = GoldenCase(id="tutorial-refund", query="How can I get a refund?", expect={"category": "faq"})
TEMPLATE_GARBAGE = "Sure!<|im_end|>\n<|im_start|>user\nThanks"


def completion(content: str, finish: str = "stop") -> bytes:
    message = {"role": "assistant", "content": content}
    choice = {"index": 0, "message": message, "finish_reason": finish}
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [choice]}).encode()


def fake_server(replies: dict[str, bytes]):
    """A FAKE chat server answering each step (told apart by its body) with a planted reply."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            send_json(self, replies["classify" if "response_format" in body else "faq_answer"])

        def log_message(self, *args):
            pass

    return serve(Handler)


@pytest.fixture
def recorded(tmp_path) -> Path:
    path = tmp_path / "tutorial-refund.yaml"
    shutil.copy(ROOT / "cassettes" / "tutorial-refund.yaml", path)
    return path


def record_from(replies, cassette):
    """Record CASE into ``cassette`` from a fake server giving ``replies``; its one result."""
    server = fake_server(replies)
    settings = Settings.from_env({}).with_overrides(base_url=base_url(server), max_retries=0)
    provider, exporter = memory_provider("health")
    try:
        bot = SupportBot(settings, tracer_provider=provider)
        runner = Runner(supportbot_agent(bot), exporter, reference_registry())
        (result,) = run_golden(runner, CASE, cassette, "all")
    finally:
        server.shutdown()
    return result


@pytest.mark.parametrize(
    ("replies", "step", "reason"),
    [
        (
            {"classify": completion('{"category": "faq"}'), "faq_answer": completion("")},
            "faq_answer",
            "empty answer",
        ),
        (
            {
                "classify": completion('{"category": "faq"}'),
                "faq_answer": completion(TEMPLATE_GARBAGE, "length"),
            },
            "faq_answer",
            "chat-template control tokens",
        ),
        (
            {"classify": completion('{"categ', "length"), "faq_answer": completion("Hi.")},
            "classify",
            "structured reply cut off",
        ),
        (
            {"classify": completion("faq"), "faq_answer": completion("Hi.")},
            "classify",
            "reply is not a JSON object",
        ),
    ],
)
def test_record_refuses_an_unusable_reply_and_keeps_the_cassette(recorded, replies, step, reason):
    before = recorded.read_bytes()
    result = record_from(replies, recorded)
    assert "Not recorded: golden 'tutorial-refund'" in result.error
    assert f"{step}: {reason}" in result.error
    assert "Nothing was written" in result.error
    assert recorded.read_bytes() == before


def test_a_long_answer_is_recorded(tmp_path):
    """An answer that reaches its budget is still an answer: recorded, and counted."""
    replies = {
        "classify": completion('{"category": "faq"}'),
        "faq_answer": completion("To get a refund, open", "length"),
    }
    cassette = tmp_path / "new.yaml"
    result = record_from(replies, cassette)
    assert result.error is None
    checked = health.check_file(cassette)
    assert checked.problems == []
    assert [p.step for p in checked.cut_answers] == ["faq_answer"]


# -- check-cassettes over files ---------------------------------------------------------------


def plant(copy: Path, step: str, content: str, finish: str) -> None:
    """Replace one step's reply in a temporary COPY of a cassette."""
    data = yaml.safe_load(copy.read_text())
    for interaction in data["interactions"]:
        if recorded_step(interaction["request"]["headers"]) == step:
            interaction["response"]["body"]["string"] = completion(content, finish).decode()
    copy.write_text(yaml.safe_dump(data))


def test_check_cassettes_passes_on_every_committed_cassette_folder(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["check-cassettes"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert ": 0 unusable;" in out
    for folder in cli.CASSETTE_FOLDERS:
        assert any(health.cassette_files([ROOT / folder])), folder


@pytest.mark.parametrize(
    ("step", "content", "finish", "reason"),
    [
        ("classify", '{"category": "or', "length", "structured reply cut off"),
        ("faq_answer", TEMPLATE_GARBAGE, "stop", "chat-template control tokens ['<|im_']"),
        ("judge:retrieval_relevance", '{"label": "rel', "length", "structured reply cut off"),
    ],
)
def test_check_cassettes_fails_on_a_planted_reply(tmp_path, capsys, step, content, finish, reason):
    copy = tmp_path / "cassettes" / "tutorial-refund.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "cassettes" / "tutorial-refund.yaml", copy)
    assert cli.main(["check-cassettes", str(copy.parent)]) == 0
    plant(copy, step, content, finish)
    assert cli.main(["check-cassettes", str(copy.parent)]) == 1
    out = capsys.readouterr().out
    assert f"{copy}: interaction" in out
    assert f"({step}): {reason}" in out


def test_check_cassettes_names_an_unreadable_cassette(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text("interactions: [")
    assert cli.main(["check-cassettes", str(tmp_path)]) == 1
    assert "broken.yaml" in capsys.readouterr().out


def test_check_cassettes_on_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["check-cassettes", str(tmp_path / "nope")]) == 2
    assert "no such cassette file or folder" in capsys.readouterr().err
