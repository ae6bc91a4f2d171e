"""Replay from committed cassettes: offline passes, stale and missing cassettes fail clearly."""

import re

from plugin_helpers import CASE_IDS, output_of, tutorial_cases

SUMMARY_ROW = re.compile(
    r"^(?P<name>[a-z_:]+)\s+(?P<passed>[\d.]+)/(?P<total>\d+)\s+(?P<rate>[\d.]+%)"
)
UNREACHABLE_LLM = "http://127.0.0.1:9/v1"


def summary_rows(result):
    """{evaluator: (passed, total, rate)} from the "evals" section."""
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "= evals =" in line)
    rows = {}
    for line in lines[start + 1 :]:
        match = SUMMARY_ROW.match(line)
        if match:
            # a metric's passed count is the sum of its values (two decimals)
            rows[match["name"]] = (float(match["passed"]), int(match["total"]), match["rate"])
    return rows


def test_replay_passes_offline_with_summary_table(replay_run):
    result, report = replay_run

    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("error", 0) == 0
    # Every golden test passed or missed an expectation; one more test is the gate itself.
    assert outcomes.get("passed", 0) + outcomes.get("missed", 0) == len(CASE_IDS) + 1
    assert "xfailed" not in outcomes
    result.stdout.fnmatch_lines(["evals::gate PASSED*"])
    for case_id in CASE_IDS:
        result.stdout.fnmatch_lines([f"*test_golden?{case_id}? *"])
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*= evals =*",
            "evaluator*passed/total*rate*threshold*status*",
            f"evals gate: PASS ({len(CASE_IDS)} case runs; {len(CASE_IDS)}/{len(CASE_IDS)} "
            "selected golden runs evaluated)",
        ]
    )
    rows = summary_rows(result)
    assert set(rows) == set(report["evaluators"])
    for name, stat in report["evaluators"].items():
        assert rows[name][:2] == (round(stat["passed"], 2), stat["total"])
        assert rows[name][2] == f"{stat['pass_rate']:.1%}"
        assert stat["status"] == "info" and stat["threshold"] is None
    assert rows["label"][1] == len(CASE_IDS)
    assert report["gate"] == "pass" and report["errored"] == []
    assert sorted(c["id"] for c in report["cases"]) == sorted(CASE_IDS)


def test_changed_query_is_a_stale_cassette_with_a_diff(eval_project):
    cases = tutorial_cases()
    refund = next(c for c in cases if c["id"] == "tutorial-refund")
    old_query = refund["query"]
    refund["query"] = old_query + " My kettle arrived broken."
    eval_project.write_goldens(cases)

    result = eval_project.run()

    assert result.ret == 1
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2  # the stale golden, and the gate
    result.stdout.fnmatch_lines(["FAILED evals::gate*"])
    result.stdout.fnmatch_lines(
        [
            "*Cassette miss in golden 'tutorial-refund': the classify request*",
            "*what changed (- recorded, + now)*",
        ]
    )
    result.stdout.re_match_lines(
        [rf"^\s+-\s+{re.escape(old_query)}$", rf"^\s+\+\s+{re.escape(refund['query'])}$"],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "*evals record tutorial-refund",
            "evals gate: FAIL*",
            # the cause first: the run that could not be evaluated, and how to re-record it
            "  1 golden run(s) could not be evaluated: tutorial-refund (cassette misses: stale or "
            "missing cassettes; if the change is intended, re-record them with: evals "
            "record tutorial-refund)",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED *test_golden?tutorial-refund?*"])


def test_missing_cassette_says_it_does_not_exist_yet(eval_project):
    eval_project.cassette("tutorial-order-shipped").unlink()

    result = eval_project.run()

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*Cassette miss in golden 'tutorial-order-shipped'*",
            "The cassette does not exist yet.",
            "*evals record tutorial-order-shipped",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED *test_golden?tutorial-order-shipped?*"])
    assert "evals gate: FAIL" in result.stdout.str()
    assert not eval_project.cassette("tutorial-order-shipped").exists()


def test_record_mode_none_never_calls_the_llm(eval_project, clean_env):
    # Nothing listens on port 9: a call past vcr would fail with a connection error.
    clean_env.setenv("OPENAI_BASE_URL", UNREACHABLE_LLM)
    eval_project.cassette("tutorial-refund").unlink()

    result = eval_project.run("--evals-record-mode=none")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*Cassette miss in golden 'tutorial-refund': the classify request*",
            "The cassette does not exist yet.",
        ]
    )
    text = output_of(result)
    assert "APIConnectionError" not in text and "Connection refused" not in text
    assert not eval_project.cassette("tutorial-refund").exists()
    # The other cases still replay from their cassettes, whatever the base URL.
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2  # the golden with no cassette, and the gate
    assert outcomes.get("passed", 0) + outcomes.get("missed", 0) == len(CASE_IDS) - 1
