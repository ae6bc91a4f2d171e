"""export-goldens' plain logic: filters, time windows, runs to cases, appending to a file.

The agent runs here are data as ``read_runs`` builds them from Phoenix (the read itself is
tested against a real ``phoenix serve`` in tests/integration/test_feedback_loop.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pytest_supportbot_evals.phoenix.datasets import examples_from_goldens, examples_from_results
from pytest_supportbot_evals.phoenix.export import (
    AgentRun,
    AnnotationFilter,
    ExportError,
    new_cases,
    parse_time,
)
from pytest_supportbot_evals.phoenix.export_file import append_cases
from pytest_supportbot_evals.run.goldens import GoldenError, load_file
from pytest_supportbot_evals.run.results import CaseResult, Check

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DOWN = [AnnotationFilter("user_feedback", "thumbs-down")]


def agent_run(trace: str, query: str, **kw) -> AgentRun:
    defaults = {
        "span_id": trace[:16],
        "start_time": f"2026-11-27T10:00:{trace[:2]}",
        "category": "faq",
    }
    return AgentRun(trace_id=trace, query=query, **{**defaults, **kw})


def test_filters_need_name_and_label():
    assert AnnotationFilter.parse(" tool_result = error ") == AnnotationFilter(
        "tool_result", "error"
    )
    for bad in ("user_feedback", "=thumbs-down", "tool_result="):
        with pytest.raises(ExportError, match=r"write NAME=LABEL, e\.g\. user_feedback"):
            AnnotationFilter.parse(bad)


def test_time_windows_are_iso_or_relative():
    assert parse_time("7d", NOW) == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert parse_time("90m", NOW) == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert parse_time("2026-11-20T09:00") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with pytest.raises(ExportError, match="time 'last week': give an ISO time"):
        parse_time("last week")


def test_only_matching_runs_become_cases_with_what_the_bot_did_to_review():
    runs = [
        agent_run(
            "aa" * 16,
            "Where is ORD-99999?",
            category="order_status",
            order_lookup="not_found",
            annotations=[
                ("user_feedback", "thumbs-down", "HUMAN"),
                ("tool_result", "error", "CODE"),
            ],
        ),
        agent_run(
            "bb" * 16,
            "How do I get a refund?",
            annotations=[("user_feedback", "thumbs-up", "HUMAN")],
        ),
        agent_run(
            "cc" * 16,
            "Do you sell gift cards?",
            annotations=[
                ("retrieval_relevance", "irrelevant", "LLM"),
                ("retrieval_relevance", "relevant", "HUMAN"),
            ],
        ),
    ]
    filters = [*DOWN, AnnotationFilter("retrieval_relevance", "irrelevant")]
    cases, skipped = new_cases(
        runs, filters, [], project="p", trace_url="http://x/{trace_id}", now=NOW
    )
    assert skipped == 0
    assert [c["query"] for c in cases] == ["Where is ORD-99999?", "Do you sell gift cards?"]
    order, gift = cases
    assert order["id"] == "exported-where-is-ord-99999-aaaaaaaa"
    assert order["label"] == "order_status"
    assert order["expect"] == {"order_lookup": "not_found", "tool_result": "error"}
    assert order["human_label"] == {"user_feedback": "thumbs-down"}
    assert order["review"] == ["label", "order_lookup", "tool_result"]
    assert order["origin"]["url"] == "http://x/" + "aa" * 16
    assert order["tags"] == ["exported", "user_feedback=thumbs-down"]
    # A human's relevance label wins over the judge's, and is kept as the human label.
    assert gift["expect"] == {"retrieval_relevance": "relevant"}
    assert gift["human_label"] == {"retrieval_relevance": "relevant"}


def test_a_session_turn_becomes_a_conversation_with_the_turns_before_it():
    first = agent_run(
        "01" * 16,
        "Status of ORD-12345?",
        session_id="s1",
        category="order_status",
        order_lookup="found",
    )
    follow = agent_run(
        "02" * 16,
        "When will it arrive?",
        session_id="s1",
        annotations=[("user_feedback", "thumbs-down", "HUMAN")],
    )
    other = agent_run("03" * 16, "Unrelated", session_id="s2")
    (case,), _ = new_cases([first, follow, other], DOWN, [], project="p", now=NOW)
    assert [t["query"] for t in case["turns"]] == ["Status of ORD-12345?", "When will it arrive?"]
    assert case["origin"]["session_id"] == "s1"
    assert "query" not in case


def test_export_writes_a_valid_file_and_skips_what_is_already_there(tmp_path):
    runs = [
        agent_run(
            "aa" * 16, "Where is my stuff?", annotations=[("user_feedback", "thumbs-down", "HUMAN")]
        )
    ]
    path = tmp_path / "goldens" / "exported.yaml"
    cases, _ = new_cases(runs, DOWN, [], project="p", now=NOW)
    append_cases(path, cases)
    (loaded,) = load_file(path)
    assert loaded.review == ("label",) and loaded.origin["trace_id"] == "aa" * 16
    again, skipped = new_cases(runs, DOWN, [loaded], project="p", now=NOW)
    assert (again, skipped) == ([], 1)
    same_query = [agent_run("dd" * 16, "where is my  STUFF?", annotations=runs[0].annotations)]
    assert new_cases(same_query, DOWN, [loaded], project="p", now=NOW) == ([], 1)


def test_appending_keeps_comments_and_never_breaks_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("# my notes\ncases:\n  - id: kept\n    query: hello\n    category: faq\n")
    runs = [
        agent_run("ee" * 16, "New one", annotations=[("user_feedback", "thumbs-down", "HUMAN")])
    ]
    cases, _ = new_cases(runs, DOWN, load_file(path), project="p", now=NOW)
    append_cases(path, cases)
    assert path.read_text().startswith("# my notes\ncases:\n  - id: kept\n")
    assert [c.id for c in load_file(path)] == ["kept", "exported-new-one-eeeeeeee"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("cases: [\n")
    with pytest.raises(GoldenError, match="invalid YAML"):
        append_cases(broken, cases)
    assert broken.read_text() == "cases: [\n"
    assert not list(tmp_path.glob(".*partial"))


def test_dataset_examples_match_result_ids_turn_by_turn(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        "cases:\n  - id: chat\n    turns:\n      - {query: a, category: faq}\n"
        "      - {query: b, category: order_status, expect: {order_lookup: found}}\n"
    )
    examples = examples_from_goldens(load_file(Path(path)))
    assert [(e.golden_id, e.query, e.history) for e in examples] == [
        ("chat#1", "a", ()),
        ("chat#2", "b", ("a",)),
    ]
    results = [
        CaseResult("chat#2", "b", checks=[Check("order_lookup", "found", "found")]),
        CaseResult("chat#1", "a", checks=[Check("category", "faq", "faq")]),
        CaseResult("chat#1", "a", repetition=1),
    ]
    from_results = examples_from_results(results)
    assert [(e.golden_id, e.history, dict(e.expect)) for e in from_results] == [
        ("chat#2", ("a",), {"order_lookup": "found"}),
        ("chat#1", (), {"category": "faq"}),
    ]
    assert examples[1].as_row()[0] == {"query": "b", "history": ["a"]}


def test_a_key_pasted_into_a_query_is_redacted_and_never_in_the_id(tmp_path, monkeypatch):
    from pytest_supportbot_evals.recording import secrets

    key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX1234"
    monkeypatch.setenv("SHOP_API_KEY", "hunter2-shop-secret")
    typed = f"my key is {key} and the shop key hunter2-shop-secret, why no refund?"

    query = secrets.redact(typed)
    thumbs_down = [("user_feedback", "thumbs-down", "HUMAN")]
    run = agent_run("ab" * 16, query, annotations=thumbs_down)
    (case,), _ = new_cases([run], DOWN, [], project="p", now=NOW)

    assert "sk-" not in query and "hunter2" not in query
    assert query.count(secrets.REDACTED) == 2
    assert "sk-" not in case["id"] and "hunter2" not in case["id"]
    assert secrets.scan_text(repr(case), "case") == []


def test_export_refuses_only_the_case_still_holding_a_secret_and_names_it(tmp_path):
    path = tmp_path / "exported.yaml"
    down = [("user_feedback", "thumbs-down", "HUMAN")]
    leaked = agent_run(
        "cd" * 16, "c2stcHJvai1BQkNERUZHSElKS0xNTk9QUVJTVFVWV1gxMjM0", annotations=down
    )
    fine = agent_run("ef" * 16, "where is my refund?", annotations=down)
    cases, _ = new_cases([leaked, fine], DOWN, [], project="p", now=NOW)

    refused = append_cases(path, cases)

    (line,) = refused
    assert "cdcdcdcd" in line and "openai-style key" in line and "base64" in line
    assert [c.id for c in load_file(path)] == [cases[1]["id"]]
    assert "c2stcHJv" not in path.read_text()


def test_phoenix_default_feedback_labels_read_as_thumbs():
    from pytest_supportbot_evals.phoenix.export import label_of

    assert label_of("user_feedback", "negative") == "thumbs-down"
    assert label_of("user_feedback", "positive") == "thumbs-up"
    assert label_of("user_feedback", "thumbs-down") == "thumbs-down"
    assert label_of("tool_result", "negative") == "negative"  # only user_feedback is mapped


@pytest.mark.parametrize(
    ("ini", "env", "project"),
    [
        ('evals_agent = "travel.agent:make_agent"', {}, "travel"),  # the agent's module
        ('evals_agent = "travel:make_agent"\nevals_phoenix_project = "trips"', {}, "trips"),
        ('evals_agent = "travel:make_agent"', {"PHOENIX_PROJECT_NAME": "p"}, None),  # the env's
        ('evals_agent = "pytest_supportbot_evals.run.reference:make_agent"', {}, "support-bot"),
        ('evals_agent = "pytest_supportbot_evals.reference:make_agent"', {}, "support-bot"),
        ("", {}, "support-bot"),  # SupportBot's default project
    ],
)
def test_export_reads_the_project_the_plugins_runs_trace_to(tmp_path, ini, env, project):
    from pytest_supportbot_evals.cli._export import default_project

    (tmp_path / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{ini}\n")
    assert default_project(tmp_path, env) == project
