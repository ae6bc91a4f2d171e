"""What the gate catches: each experiment of ``tests/evals/experiments/`` is a variant of the
agent recorded from the real local model, replayed offline against the committed baseline.

- ``rerecorded``: the unchanged agent recorded again; never ``regressed``, and (recording is
  reproducible) the same replies as the committed cassettes;
- ``broken-retrieval`` (retrieval): the knowledge base lost five FAQ entries;
- ``broken-order-tool`` (tool): the order tool's data lost six orders (a failed migration);
- ``broken-classify-prompt`` (prompt): the classification prompt "simplified" to one example;
- ``bloated-faq-prompt`` (cost): a long preamble in the FAQ-answer prompt; within the token
  limit next to the long few-shot prompts (measured), so it passes, with the growth named;
- ``gutted-classify-prompt`` (routing): the classification prompt cut to "Classify the query.";
  FAQ goldens routed to the order path lose their retrieval, which counts as drops;
- ``tool-always-fails`` (tool, small suite): four order goldens of their own, the order tool
  failing on each; too few goldens for the comparison to detect it, which the report says, and
  the thresholds fail it: the tool's, and the answer check's (every answer contradicts the
  failed lookup).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from test_regression_gate import ROOT, Run, clean_env, run_suite, verdicts

from pytest_supportbot_evals.evaluators._answer_checks import FAILED, has_phrase

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
    before = json.loads(
        (ROOT / "packages" / "supportbot" / "supportbot" / "data" / packaged).read_text()
    )
    after = json.loads((ROOT / EXPERIMENTS / kept).read_text())
    return {e[key] for e in before} - {e[key] for e in after}


def answer_checks(report: dict) -> dict[str, dict]:
    """Golden id -> its ``answer_grounded`` check."""
    return {
        case["id"]: check
        for case in report["cases"]
        for check in case["checks"]
        if check["evaluator"] == "answer_grounded"
    }


def report_response(report: dict, golden: str) -> str:
    (case,) = [c for c in report["cases"] if c["id"] == golden]
    return case["response"]


def lost_order(golden: str, lost: set[str]) -> str:
    (query,) = golden_ids_queries(golden)
    (order,) = [o for o in lost if o in query]
    return order


def golden_ids_queries(golden: str) -> list[str]:
    return [
        case["query"]
        for path in sorted((ROOT / "tests" / "goldens").glob("*.yaml"))
        for case in yaml.safe_load(path.read_text())["cases"]
        if case["id"] == golden
    ]


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
    assert len(report["cases"]) == len(baseline["outcomes"]["evals:label"])
    assert report["comparisons"], "nothing was compared"
    for c in report["comparisons"]:
        assert "not in both runs" not in c["note"], c  # every golden was compared
        assert c["verdict"] == "unchanged", c  # recording is reproducible: no flips at all
    assert report["baseline_notes"] == []
    assert report["token_growth"] == []
    assert report["gate"] == "pass" and run.returncode == 0


# -- retrieval: five FAQ entries removed -----------------------------------------------------


def test_broken_retrieval_is_caught_by_retrieval_hit(out, baseline):
    run = run_experiment(out, "broken-retrieval", SUPPORTBOT_FAQ_DATA="faq.json")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    gone = removed("faq.json", "broken-retrieval/faq.json", "id")
    assert len(gone) == 5
    hit = baseline["outcomes"]["evals:retrieval_hit"]
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
    # the answer check: the goldens that lost their order are now judged against the tool's
    # error, and none of them passes unless its answer says the lookup failed ("not found",
    # "returned an error", ...)
    checks = answer_checks(report)
    for golden in expected:
        check = checks[golden]
        assert f"{lost_order(golden, lost)} not found" in check["detail"], check
        if not has_phrase(report_response(report, golden).lower(), FAILED):
            assert check["actual"] in ("contradicts", "unsupported"), check
    found = comparison(report, "answer_grounded")
    assert found["pass_to_fail"] and set(found["pass_to_fail"]) <= set(expected), found
    # only a golden whose answer now reports the failure can rise; nothing else changed
    reports_failure = {
        g for g in expected if has_phrase(report_response(report, g).lower(), FAILED)
    }
    assert set(found["fail_to_pass"]) <= reports_failure, found
    assert any(r.startswith("answer_grounded pass rate") for r in report["reasons"])
    # measured: the answer model states a status for 5 of the 6 lost orders anyway (the sixth is
    # unsupported), so the answer check alone is a significant regression (5 flips, p = 0.031)
    assert found["verdict"] == "regressed", found
    assert any(r.startswith("answer_grounded regressed") for r in report["reasons"])


# -- prompt: the classification prompt cut down to one example -------------------------------


def test_broken_classify_prompt_is_named_and_caught(out, baseline):
    run = run_experiment(out, "broken-classify-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    note = "agent prompt(s) changed: classify (the change under test?)"
    assert note in report["baseline_notes"]
    found = verdicts(report)
    assert found["label"] == "regressed"
    assert found["retrieval_hit"] == "regressed"  # routed away from retrieval
    # the FAQ goldens routed away lost their ranking measurement: drops, not "unchanged"
    assert lost_are_drops(run, report, baseline) >= 5
    assert any("lost their measurement" in reason for reason in report["reasons"])
    assert report["gate"] == "fail" and run.returncode == 1


# -- tokens: the FAQ-answer prompt bloated with a long preamble ------------------------------


def test_a_bloated_faq_prompt_grows_tokens_within_the_limit_with_quality_unchanged(out, baseline):
    """Measured: the preamble adds +12.6% agent tokens now that the few-shot answer prompts are
    long (with SmolLM2's short instruction prompts the same preamble was +24.1%), under the
    +20% limit, and the answer model writes no longer answers: the gate passes, and says which
    prompt changed and by how much the tokens grew."""
    run = run_experiment(out, "bloated-faq-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    notes = report["baseline_notes"]
    assert "agent prompt(s) changed: faq_answer (the change under test?)" in notes
    (total,) = [line for line in notes if line.startswith("evals: agent tokens ")]
    growth = float(total.split("(")[1].split("%")[0])
    assert 0 < growth < 20, total  # grew, within evals_max_token_growth (+20%)
    assert report["token_growth"] == []  # nothing over a limit, in total or per step
    for evaluator, verdict in verdicts(report).items():  # only the answer check reads answers
        if evaluator != "answer_grounded":
            assert verdict == "unchanged", (evaluator, verdict)
    assert verdicts(report)["answer_grounded"] != "regressed"
    assert report["gate"] == "pass" and run.returncode == 0


# -- routing: the classification prompt gutted to "Classify the query." ----------------------


def measured(report: dict, evaluator: str) -> set[str]:
    """Golden runs of the default suite with a measurement of ``evaluator`` in this run."""
    return {
        c["id"]
        for c in report["cases"]
        if c["suite"] == "evals"
        for check in c["checks"]
        if check["evaluator"] == evaluator and check["actual"] is not None
    }


def lost_are_drops(run: Run, report: dict, baseline: dict) -> int:
    """Check, for each ranking metric, that the goldens measured in the baseline and unmeasured
    now are counted as lost: in the denominator, as drops in the exact test; the fewest lost."""
    fewest = None
    for evaluator in ("precision_at_k", "mrr", "ndcg_at_k"):
        before = baseline["outcomes"][f"evals:{evaluator}"]
        lost = sorted(set(before) - measured(report, evaluator))
        found = comparison(report, evaluator)
        assert found["lost"] == lost, found
        # every lost golden is a failure now: in the denominator, and a drop where it scored
        assert found["now"]["total"] == len(measured(report, evaluator)) + len(lost)
        drops = len(found["pass_to_fail"]) + sum(1 for case in lost if before[case] > 0)
        rises = len(found["fail_to_pass"])
        flips = drops + rises
        if flips:
            tail = sum(math.comb(flips, i) for i in range(drops, flips + 1)) / 2**flips
            assert found["p_value"] == pytest.approx(tail, abs=1e-5)
            if tail < 0.05:
                assert found["verdict"] == "regressed", found
        # the threshold counts the goldens that name relevant entries and retrieved nothing
        row = report["evaluators"][evaluator]
        expecting = [c for c in report["cases"] if c["suite"] == "evals" and c["relevant_ids"]]
        assert row["total"] >= len(expecting)
        # what the comparison could have detected, from the counts alone
        assert found["detectable"]["paired"] == len(before)
        assert found["detectable"]["goldens"] == 5
        if lost:
            assert f"lost {len(lost)}" in run.output
        fewest = len(lost) if fewest is None else min(fewest, len(lost))
    return fewest or 0


def test_a_gutted_classify_prompt_is_judged_by_what_it_changed(out, baseline):
    """Told only "Classify the query." (the labels still constrained by the JSON schema),
    SmolLM2 says ``faq`` more often: FAQ goldens it used to send to the order path now retrieve,
    nothing loses its measurement, and the gate passes with the gains shown, for that reason."""
    run = run_experiment(out, "gutted-classify-prompt", SUPPORTBOT_PROMPTS_DIR="prompts")
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    assert "agent prompt(s) changed: classify (the change under test?)" in report["baseline_notes"]
    assert lost_are_drops(run, report, baseline) == 0
    hit = comparison(report, "retrieval_hit")
    assert hit["verdict"] == "improved" and hit["pass_to_fail"] == [], hit
    assert all(v != "regressed" for v in verdicts(report).values()), verdicts(report)
    assert report["gate"] == "pass" and report["reasons"] == [] and run.returncode == 0


# -- tool: the order tool fails on every call, on a small suite of its own -------------------


def test_a_tool_that_always_fails_on_a_small_suite_fails_the_threshold_not_the_comparison(
    out,
):
    folder = f"{EXPERIMENTS}/tool-always-fails"
    path = out / "desk-baseline.json"
    common = (
        "-o",
        f"supportbot_goldens={folder}/goldens.yaml",
        "-o",
        "supportbot_thresholds=tool_result=1.0",
        # measured on the unchanged agent's recordings: 4/4 answers grounded in the tool
        "--evals-threshold=answer_grounded=1.0",
        f"--supportbot-baseline={path}",
    )
    before = run_suite(
        out / "desk-before.json",
        *common,
        "-o",
        f"supportbot_cassettes={folder}/baseline-cassettes",
        "--supportbot-update-baseline",
    )
    assert before.data()["gate"] == "pass", before.output[-6000:]
    run = run_suite(
        out / "desk.json",
        *common,
        "-o",
        f"supportbot_cassettes={folder}/cassettes",
        env=clean_env(SUPPORTBOT_ORDERS_DATA=f"{folder}/orders.json"),
    )
    report = run.data()
    assert report["errored"] == [], run.output[-6000:]
    goldens = sorted(
        c["id"] for c in yaml.safe_load((ROOT / folder / "goldens.yaml").read_text())["cases"]
    )
    assert len(goldens) == 4
    found = comparison(report, "tool_result")
    assert sorted(found["pass_to_fail"]) == goldens and found["fail_to_pass"] == []
    # four flips of four: p = 0.5**4 = 0.0625, not below 0.05: the comparison cannot call it
    assert found["verdict"] == "inconclusive" and found["p_value"] == pytest.approx(0.0625)
    assert found["detectable"] == {
        "paired": 4,
        "can_drop": 4,
        "goldens": None,
        "pass_rate": None,
        "alpha": 0.05,
        "total_breakage_detectable": False,
    }
    (warning,) = [w for w in report["warnings"] if "cannot detect even a total breakage" in w]
    assert "tool_result (4 paired, 4 passing in the baseline)" in warning
    # the answers: every one contradicts the failed lookup (the answer model, given an error,
    # states an order status anyway); the comparison cannot call 4 flips either
    checks = answer_checks(report)
    assert sorted(checks) == goldens
    for golden, check in checks.items():
        assert check["actual"] == "contradicts", (golden, check)
        assert "not found" in check["detail"], check
    assert comparison(report, "answer_grounded")["verdict"] == "inconclusive"
    # the right verdict for the right reason: the thresholds, and nothing else
    assert report["reasons"] == [
        "tool_result pass rate 0.0% (0/4) is below its threshold 100.0%",
        "answer_grounded pass rate 0.0% (0/4) is below its threshold 100.0%",
    ]
    assert report["gate"] == "fail" and run.returncode == 1
    assert "cannot detect even a total breakage" in run.output
