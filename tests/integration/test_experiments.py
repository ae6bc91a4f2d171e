"""What the gate catches: each experiment of ``tests/evals/experiments/`` is a variant of the
agent recorded from the real local model, replayed against the committed baseline.

- ``broken-order-tool``: the order tool's data lost six orders (a failed migration);
- ``broken-classify-prompt``: the classification prompt's two category descriptions swapped
  (a copy-paste slip in a prompt edit).

(``broken-retrieval`` and ``rerecorded`` are tested in ``test_regression_gate.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_regression_gate import ROOT, Run, clean_env, run_suite, verdicts

EXPERIMENTS = "tests/evals/experiments"


def run_experiment(out: Path, name: str, **env: str) -> Run:
    return run_suite(
        out / f"{name}.json",
        "-o",
        f"supportbot_cassettes={EXPERIMENTS}/{name}/cassettes",
        env=clean_env(**{k: f"{EXPERIMENTS}/{name}/{v}" for k, v in env.items()}),
    )


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("experiments")


@pytest.fixture(scope="module")
def broken_tool(out) -> Run:
    return run_experiment(out, "broken-order-tool", SUPPORTBOT_ORDERS_DATA="orders.json")


@pytest.fixture(scope="module")
def broken_prompt(out) -> Run:
    return run_experiment(out, "broken-classify-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")


def lost_orders() -> set[str]:
    import json

    packaged = json.loads((ROOT / "supportbot/data/orders.json").read_text())
    kept = json.loads((ROOT / EXPERIMENTS / "broken-order-tool/orders.json").read_text())
    return {o["order_id"] for o in packaged} - {o["order_id"] for o in kept}


def test_a_broken_order_tool_is_caught_by_the_code_judges(broken_tool):
    report = broken_tool.data()
    assert report["errored"] == [], broken_tool.output[-6000:]
    assert len(lost_orders()) == 6
    found = verdicts(report)
    assert found["order_lookup"] == "regressed"
    assert found["tool_result"] == "regressed"
    (lookup,) = [c for c in report["comparisons"] if c["evaluator"] == "order_lookup"]
    assert len(lookup["pass_to_fail"]) == 6 and lookup["fail_to_pass"] == []
    assert report["gate"] == "fail"
    assert broken_tool.returncode == 1
    # retrieval never ran differently: the FAQ goldens are untouched
    assert found["retrieval_hit"] == "unchanged"


def test_a_broken_classify_prompt_is_named_and_caught(broken_prompt):
    report = broken_prompt.data()
    assert report["errored"] == [], broken_prompt.output[-6000:]
    assert "agent prompt(s) changed: classify (the change under test?)" in report["baseline_notes"]
    assert report["gate"] == "fail"
    assert "regressed" in verdicts(report).values()
