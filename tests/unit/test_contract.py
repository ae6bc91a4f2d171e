"""The agent contract: what an agent may return and which keywords a golden run needs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from evals_core.tracing import memory_provider
from pytest_supportbot_evals.config.contract import (
    AgentError,
    AgentSpec,
    Answer,
    call,
    missing_keywords,
    read_answer,
)
from pytest_supportbot_evals.evaluators.registry import build
from pytest_supportbot_evals.run.goldens import GoldenCase, GoldenTurn
from pytest_supportbot_evals.run.runner import Runner, run_golden


@pytest.mark.parametrize(
    ("value", "answer"),
    [
        ("Hi.", Answer("Hi.")),
        (Answer("Hi.", "greeting"), Answer("Hi.", "greeting")),
        ({"response": "Hi.", "label": "greeting"}, Answer("Hi.", "greeting")),
        (SimpleNamespace(response="Hi."), Answer("Hi.")),
    ],
)
def test_an_agent_may_return_text_an_answer_a_mapping_or_an_object(value, answer):
    assert read_answer(value) == answer


@pytest.mark.parametrize("value", [None, 42, {"text": "Hi."}, {"response": "Hi.", "label": 3}])
def test_anything_else_is_an_error_that_says_what_to_return(value):
    with pytest.raises(AgentError, match=r"response|label"):
        read_answer(value)


def test_only_the_keywords_an_agent_takes_are_passed():
    seen = []

    def plain(query):
        seen.append(query)
        return "ok"

    assert call(plain, "q", None, None) == Answer("ok")
    assert missing_keywords(plain, session=True, seeded=True) == ["session_id", "seed"]
    assert missing_keywords(lambda q, **kw: q, session=True, seeded=True) == []


def test_a_conversation_needs_an_agent_with_sessions(tmp_path):
    _, exporter = memory_provider("contract")
    case = GoldenCase(id="chat", query="one", expect={}, follow_ups=(GoldenTurn("two", {}),))
    runner = Runner(AgentSpec(lambda query: "ok"), exporter, build(reference_agent=False))
    results = run_golden(runner, case, tmp_path / "chat.yaml", "none")
    assert [r.case_id for r in results] == ["chat#1", "chat#2"]
    assert all(
        "does not take session_id=, which a conversation golden needs" in r.error for r in results
    )
