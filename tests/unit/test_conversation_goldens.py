"""Conversation goldens (``turns:``), review markers and origins: parsing, errors, folding."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_supportbot_evals.run.goldens import GoldenError, goldens_hash, load_file, load_goldens
from pytest_supportbot_evals.run.results import CaseResult, Check, fold_turns
from pytest_supportbot_evals.run.runner import result_ids

ROOT = Path(__file__).resolve().parents[2]

CONVERSATION = """\
cases:
  - id: order-chat
    tags: [conversation]
    review: [category]
    origin:
      trace_id: 0123abcd
      url: http://127.0.0.1:6006/projects/UHJvamVjdDox/traces/0123abcd
    turns:
      - query: "Where is ORD-12345?"
        category: order_status
        expect: {order_lookup: found}
      - query: "When will it arrive?"
        category: order_status
        human_label: {user_feedback: thumbs-down}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goldens.yaml"
    path.write_text(text)
    return path


def test_a_conversation_is_one_case_with_its_turns_in_order(tmp_path):
    (case,) = load_file(write(tmp_path, CONVERSATION))
    assert case.is_conversation
    assert [t.query for t in case.turns] == ["Where is ORD-12345?", "When will it arrive?"]
    assert case.turns[0].expect == {"label": "order_status", "order_lookup": "found"}
    assert case.turns[1].human_label == {"user_feedback": "thumbs-down"}
    assert case.query == "Where is ORD-12345?"  # the first turn is the case's own query
    assert case.review == ("label",)
    assert case.origin["trace_id"] == "0123abcd"
    assert result_ids(case) == ["order-chat#1", "order-chat#2"]


def test_single_query_cases_keep_their_id_and_fingerprint():
    cases = load_goldens([ROOT / "tests" / "goldens"])
    single = [c for c in cases if not c.is_conversation]
    assert result_ids(single[0]) == [single[0].id]
    # The committed baseline's fingerprint of the single-query goldens is unchanged.
    assert goldens_hash(single) == "ab659181ab8f"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "cases:\n  - id: c\n    query: q\n    category: faq\n    turns:\n"
            "      - {query: a, category: faq}\n",
            "gives ['category', 'query'] inside each of its 'turns'",
        ),
        ("cases:\n  - id: c\n    turns: []\n", "field 'turns' must be a list of 1 to 20"),
        (
            "cases:\n  - id: c\n    turns:\n      - {query: a, category: faq, tags: [x]}\n",
            "turn 1 must be a mapping with keys from",
        ),
        (
            "cases:\n  - id: c\n    turns:\n      - {query: a, category: faq}\n"
            "      - {query: b, category: billing}\n",
            "case 'c', turn 2: field 'category' is 'billing'",
        ),
        (
            "cases:\n  - id: c\n    query: a\n    category: faq\n    review: [everything]\n",
            "field 'review' must list expectation names",
        ),
        (
            "cases:\n  - id: c\n    query: a\n    category: faq\n    origin: {where: x}\n",
            "field 'origin' must be a mapping with keys from",
        ),
        (
            "cases:\n  - id: c\n    query: a\n    category: faq\n"
            "    human_label: {user_feedback: meh}\n",
            "user_feedback is 'meh'; use one of ('thumbs-up', 'thumbs-down')",
        ),
    ],
)
def test_bad_conversations_are_named_with_file_line_and_fix(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(GoldenError) as error:
        load_file(path)
    assert str(path) in str(error.value)
    assert needle in str(error.value)


def test_folding_a_conversation_keeps_each_turns_checks_and_first_error():
    first = CaseResult("chat#1", "a", checks=[Check("category", "faq", "faq")])
    second = CaseResult("chat#2", "b", checks=[Check("category", "faq", "order_status")])
    folded = fold_turns([first, second])
    assert folded.case_id == "chat"
    assert not folded.passed
    assert [c.evaluator for c in folded.failed_checks()] == ["chat#2 category"]
    second.error = "The agent failed: boom"
    assert fold_turns([first, second]).error == "chat#2: The agent failed: boom"
    assert fold_turns([first]) is first


def test_a_turn_result_names_its_golden_run():
    assert CaseResult("chat#2", "q", repetition=1).golden_run_id == "chat@1"
    assert CaseResult("single", "q").golden_run_id == "single"
    assert (CaseResult("chat#2", "q").turn, CaseResult("single", "q").turn) == (2, None)
