"""The annotations an eval run sends Phoenix are built in phoenix_delivery (plain data): a
golden's pass/fail, a turn's tokens, and the experiment's name and metadata."""

from phoenix_delivery.phoenix_payloads import (
    GOLDEN_ANNOTATION,
    TOKENS_ANNOTATION,
    experiment_metadata,
    golden_annotation,
    token_annotation,
)

META = {"git_commit": "abc123", "model": "m", "agent_prompts": {"classify": "h1"}}


def test_a_golden_that_held_every_expectation_is_a_pass():
    note = golden_annotation(span_id="s1", identifier="run:a:0", failures=[], metadata={"x": 1})
    assert note == {
        "span_id": "s1",
        "name": GOLDEN_ANNOTATION,
        "annotator_kind": "CODE",
        "result": {"label": "pass", "score": 1.0, "explanation": "all expectations held"},
        "identifier": "run:a:0",
        "metadata": {"x": 1},
    }


def test_a_golden_that_missed_names_each_miss():
    note = golden_annotation(span_id="s1", identifier="i", failures=["a: x", "b: y"], metadata={})
    assert note["result"] == {"label": "fail", "score": 0.0, "explanation": "a: x; b: y"}


def test_tokens_score_the_agent_and_name_the_judges():
    agent = {"prompt": 1200, "completion": 34, "calls": 2}
    judge = {"prompt": 500, "completion": 6, "calls": 3}
    note = token_annotation(span_id="s", identifier="i", agent=agent, judge=judge, metadata={})
    assert note["name"] == TOKENS_ANNOTATION and note["identifier"] == "i:tokens"
    assert note["result"] == {
        "score": 1234.0,
        "explanation": "agent 1,200 prompt + 34 completion tokens in 2 calls; "
        "judges 506 tokens in 3 calls",
    }


def test_an_experiment_is_named_after_its_agent_commit_and_model():
    assert experiment_metadata({**META, "agent": "shopbot"}, "pass")[0] == "shopbot abc123 m"
    name, metadata = experiment_metadata(META, "pass")
    assert name == "agent abc123 m"
    assert metadata == {
        "git_commit": "abc123",
        "model": "m",
        "gate": "pass",
        "agent_prompts": {"classify": "h1"},
    }
    assert experiment_metadata({**META, "git_commit": None}, "fail")[0].endswith(" local m")
