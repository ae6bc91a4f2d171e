"""What the gate catches: each experiment of ``tests/evals/experiments/`` is a variant of the
agent recorded from the real local model, replayed offline against the committed baseline.

- ``rerecorded``: the unchanged agent recorded again; never ``regressed``, and (recording is
  reproducible) the same replies as the committed cassettes;
- ``broken-retrieval`` (retrieval): the knowledge base lost five FAQ entries;
- ``broken-order-tool`` (tool): the order tool's data lost six orders (a failed migration);
- ``broken-classify-prompt`` (prompt): the classification prompt "simplified" to one example.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_regression_gate import ROOT, Run, clean_env, run_suite, verdicts

EXPERIMENTS = "tests/evals/experiments"


def run_experiment(out: Path, name: str, **env: str) -> Run:
    """The golden suite replayed from an experiment's cassettes (``env`` paths are relative
    to the experiment's folder)."""
    return run_suite(
        out / f"{name}.json",
        "-o",
        f"supportbot_cassettes={EXPERIMENTS}/{name}/cassettes",
        env=clean_env(**{k: f"{EXPERIMENTS}/{name}/{v}" for k, v in env.items()}),
    )


def comparison(report: dict, evaluator: str) -> dict:
    (found,) = [c for c in report["comparisons"] if c["evaluator"] == evaluator]
    return found


def golden_ids(where) -> list[str]:
    """Ids of the goldens for which ``where(case)`` holds."""
    return sorted(
        case["id"]
        for path in sorted((ROOT / "tests" / "goldens").glob("*.yaml"))
        for case in yaml.safe_load(path.read_text())["cases"]
        if where(case)
    )


def removed(packaged: str, kept: str, key: str) -> set[str]:
    before = json.loads((ROOT / "supportbot" / "data" / packaged).read_text())
    after = json.loads((ROOT / EXPERIMENTS / kept).read_text())
    return {e[key] for e in before} - {e[key] for e in after}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("experiments")


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads((ROOT / "tests" / "evals" / "baseline.json").read_text())


# -- the unchanged agent, recorded again -----------------------------------------------------


def test_rerecorded_unchanged_agent_is_not_regressed_and_passes(out, baseline):
    run = run_experiment(out, "rerecorded")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    assert len(report["cases"]) == len(baseline["outcomes"]["supportbot:category"])
    assert report["comparisons"], "nothing was compared"
    for c in report["comparisons"]:
        assert "not in both runs" not in c["note"], c  # every golden was compared
        assert c["verdict"] == "unchanged", c  # recording is reproducible: no flips at all
    assert report["baseline_notes"] == []
    assert report["gate"] == "pass" and run.returncode == 0


# -- retrieval: five FAQ entries removed -----------------------------------------------------


def test_broken_retrieval_is_caught_by_retrieval_hit(out, baseline):
    run = run_experiment(out, "broken-retrieval", SUPPORTBOT_FAQ_DATA="faq.json")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    gone = removed("faq.json", "broken-retrieval/faq.json", "id")
    assert len(gone) == 5
    hit = baseline["outcomes"]["supportbot:retrieval_hit"]
    expected = golden_ids(lambda c: c.get("faq_id") in gone and hit.get(c["id"]))
    found = comparison(report, "retrieval_hit")
    assert sorted(found["pass_to_fail"]) == expected and found["fail_to_pass"] == []
    assert found["p_value"] == pytest.approx(0.5 ** len(expected))
    # The recording model routes some FAQ goldens to the order path, so only two of the five
    # goldens that lost their entry still retrieved it in the baseline: two flips cannot be
    # significant (p = 0.25), and it is the threshold that fails the gate.
    assert len(expected) == 2 and found["verdict"] == "inconclusive", found
    below = "retrieval_hit pass rate 45.8% (11/24) is below its threshold 54.0%"
    assert below in report["reasons"], report["reasons"]
    assert report["gate"] == "fail" and run.returncode == 1
    for evaluator in ("order_lookup", "tool_result"):  # the order path did not change
        assert comparison(report, evaluator)["verdict"] == "unchanged"


# -- tool: six orders lost -------------------------------------------------------------------


def test_broken_order_tool_is_caught_by_the_code_judges(out):
    run = run_experiment(out, "broken-order-tool", SUPPORTBOT_ORDERS_DATA="orders.json")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    lost = removed("orders.json", "broken-order-tool/orders.json", "order_id")
    assert len(lost) == 6
    expected = golden_ids(lambda c: any(order in c.get("query", "") for order in lost))
    for evaluator in ("order_lookup", "tool_result"):
        found = comparison(report, evaluator)
        assert found["verdict"] == "regressed", found
        assert sorted(found["pass_to_fail"]) == expected and found["fail_to_pass"] == []
    assert comparison(report, "retrieval_hit")["verdict"] == "unchanged"
    assert report["gate"] == "fail" and run.returncode == 1


# -- prompt: the classification prompt cut down to one example -------------------------------


def test_broken_classify_prompt_is_named_and_caught(out):
    run = run_experiment(out, "broken-classify-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    note = "agent prompt(s) changed: classify (the change under test?)"
    assert note in report["baseline_notes"]
    found = verdicts(report)
    assert found["category"] == "regressed"
    assert found["retrieval_hit"] == "regressed"  # routed away from retrieval
    assert report["gate"] == "fail" and run.returncode == 1


# -- tokens: the FAQ-answer prompt bloated with a long preamble ------------------------------


def test_a_bloated_faq_prompt_is_a_token_regression_with_quality_unchanged(out):
    run = run_experiment(out, "bloated-faq-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    assert (
        "agent prompt(s) changed: faq_answer (the change under test?)" in report["baseline_notes"]
    )
    (growth,) = report["token_growth"]
    assert growth.startswith("supportbot: agent tokens ") and "over the limit of +20%" in growth
    assert growth in report["reasons"]
    for evaluator, verdict in verdicts(report).items():  # what the answer says is not gated
        assert verdict == "unchanged", (evaluator, verdict)
    assert report["gate"] == "fail" and run.returncode == 1
    assert "agent tokens" in run.output and "over the limit" in run.output
