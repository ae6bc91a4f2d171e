"""Multi-turn conversations (the tutorial's chapter 3): each case's turns run in one session.

Its own suite with its own thresholds, set from what the local models really do (SmolLM2-135M-
Instruct classifies, base Gemma 3 270M answers): all five turns are labelled right, so the
follow-ups without an order id ("When will it arrive?") reach the order tool with the
conversation's order id, and all five answers are grounded in what the turn found. The
thresholds are there to catch it getting worse.
"""

import json

import pytest

MEASURED = {
    "label": 1.0,
    "order_lookup": 1.0,
    "tool_result": 1.0,
    "retrieval_hit": 1.0,
    "retrieval_relevance": 1.0,
    "answer_grounded": 1.0,
    "retrieval_overlap": 1.0,
}


@pytest.mark.evals(
    goldens="goldens.yaml", cassettes="cassettes", suite="conversations", thresholds=MEASURED
)
def test_conversation(evals_case, evals_results, evals_assert):
    assert len(evals_results) == len(evals_case.turns)
    sessions = set()
    for n, result in enumerate(evals_results):
        (agent,) = [s for s in result.spans if s.name == "support-agent"]
        sessions.add(agent.attributes["session.id"])
        assert agent.attributes["conversation.turn"] == n + 1
        # Every earlier turn's query reached the LLM with this turn's query (the memory).
        llm = [s for s in result.spans if s.attributes.get("openinference.span.kind") == "LLM"]
        sent = json.loads(llm[0].attributes["input.value"])["messages"]
        users = [m["content"] for m in sent if m["role"] == "user"]
        assert users == [turn.query for turn in evals_case.turns[: n + 1]]
    assert len(sessions) == 1
    evals_assert(evals_results)
