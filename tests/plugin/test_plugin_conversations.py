"""Conversation goldens and ``--evals-only`` as users meet them, in a pytester project."""

import shutil
from pathlib import Path

import yaml
from plugin_helpers import output_of

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS = ROOT / "tests" / "conversations"
ORDER_CHAT = "conversation-order-follow-ups"


def conversation_project(eval_project):
    """The default project plus the committed order conversation and its cassette."""
    cases = yaml.safe_load((CONVERSATIONS / "goldens.yaml").read_text())["cases"]
    eval_project.write_goldens([c for c in cases if c["id"] == ORDER_CHAT], name="chat.yaml")
    recorded = CONVERSATIONS / "cassettes" / f"{ORDER_CHAT}.yaml"
    shutil.copy(recorded, eval_project.cassette(ORDER_CHAT))
    return eval_project


def test_a_conversation_is_one_test_with_a_result_and_junit_properties_per_turn(eval_project):
    project = conversation_project(eval_project)
    junit = project.path / "junit.xml"
    result, report = project.run_with_report(
        f"--junitxml={junit}", f"--evals-only={ORDER_CHAT}", "-v"
    )
    assert result.ret == 0, output_of(result)
    assert [c["id"] for c in report["cases"]] == [f"{ORDER_CHAT}#{n}" for n in (1, 2, 3)]
    first = report["cases"][0]
    assert first["error"] is None, first
    # The first turn names an order id: it reaches the order tool whatever the recorded model
    # said, through the order-id guardrail when the model said faq; the category check counts
    # the model's own label only.
    llm = first["classification"]["llm_category"]
    assert first["classification"] == {
        "llm_category": llm,
        "fallback": False,
        "source": "llm" if llm == "order_status" else "order_id_rule",
    }
    checks = {c["evaluator"]: c["passed"] for c in first["checks"]}
    assert checks == {
        "label": llm == "order_status",
        "order_lookup": True,
        "tool_result": True,
        "answer_grounded": checks["answer_grounded"],  # what the recorded answer says
    }
    # One test for the conversation (missed when a turn missed an expectation), and the gate.
    missed = [c for c in report["cases"] if not c["passed"]]
    expected = {"missed": 1, "passed": 1} if missed else {"passed": 2}
    assert result.parseoutcomes() == {**expected, "deselected": 4}
    # The summary names each turn that missed an expectation.
    for case in missed:
        assert f"missed {case['id']}: " in output_of(result)
    xml = junit.read_text()
    assert 'name="evals.turn1.tool_result" value="success"' in xml
    assert 'name="evals.turn1.check.order_lookup" value="found"' in xml


def test_only_runs_the_named_goldens_and_deselects_everything_else(eval_project):
    (eval_project.path / "tests" / "test_other.py").write_text("def test_unrelated():\n    pass\n")
    result, report = eval_project.run_with_report("--evals-only=tutorial-refund")
    assert result.ret == 0, output_of(result)
    assert result.parseoutcomes().get("deselected") == 4
    assert [c["id"] for c in report["cases"]] == ["tutorial-refund"]


def test_only_star_runs_every_golden_and_nothing_else(eval_project):
    (eval_project.path / "tests" / "test_other.py").write_text("def test_unrelated():\n    pass\n")
    result = eval_project.run("--evals-only=*", "--collect-only", "-q")
    assert result.ret == 0, output_of(result)
    assert "test_unrelated" not in output_of(result)
    assert "4/5 tests collected (1 deselected)" in output_of(result)
