"""The regression gate end to end: real pytest runs of the committed golden suite.

Each run replays cassettes recorded from the real local model (nothing goes out: the LLM URL
points at a host that does not exist) and writes its JSON report; module-scoped fixtures share
one run between the assertions about it, since each run takes 10-20 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "evals" / "baseline.json"
#: What must be identical between two runs of the same cassettes, however they are split up.
SAME = ("gate", "evaluators", "comparisons", "calibration")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def data(self) -> dict:
        assert self.report is not None, f"no report written:\n{self.output[-6000:]}"
        return self.report


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that changes a replay or where output goes."""
    drop = ("OPENAI_", "SUPPORTBOT_", "PHOENIX_", "PYTEST_", "GITHUB_STEP_SUMMARY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["OPENAI_BASE_URL"] = "http://llm.invalid/v1"
    return {**env, **extra}


def run_suite(report: Path | None, *args: str, env: dict[str, str] | None = None) -> Run:
    command = [sys.executable, "-m", "pytest", "tests/evals", "-q", "-p", "no:cacheprovider"]
    if report is not None:
        command.append(f"--supportbot-report={report}")
    done = subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    data = json.loads(report.read_text()) if report is not None and report.exists() else None
    return Run(done.returncode, done.stdout, done.stderr, data)


def merge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_supportbot_evals.cli", "merge", *args],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def cases(report: dict) -> list[tuple]:
    """Per case: id, repetition, passed, and its checks."""
    return [(c["id"], c["repetition"], c["passed"], c["checks"]) for c in report["cases"]]


def verdicts(report: dict) -> dict[str, str]:
    return {c["evaluator"]: c["verdict"] for c in report["comparisons"]}


# -- shared runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("regression-gate")


@pytest.fixture(scope="module")
def committed(out) -> tuple[Run, Path, Path]:
    """The committed cassettes against the committed baseline, with Markdown and job summary."""
    summary = out / "step-summary.md"
    summary.write_text("previous step\n")
    markdown = out / "table.md"
    run = run_suite(
        out / "committed.json",
        f"--supportbot-markdown={markdown}",
        env=clean_env(GITHUB_STEP_SUMMARY=str(summary)),
    )
    return run, summary, markdown


@pytest.fixture(scope="module")
def unsharded(committed) -> dict:
    return committed[0].data()


@pytest.fixture(scope="module")
def committed_baseline() -> dict:
    return json.loads(BASELINE.read_text())


@pytest.fixture(scope="module")
def written_baseline(out) -> tuple[Run, Path]:
    path = out / "b.json"
    run = run_suite(None, "--supportbot-update-baseline", "--supportbot-baseline", str(path))
    return run, path


# -- a. committed cassettes vs committed baseline ------------------------------------------


def test_committed_cassettes_are_unchanged_against_the_committed_baseline(
    committed, committed_baseline
):
    run = committed[0]
    report = run.data()
    assert run.returncode == 0, run.output[-6000:]
    assert report["gate"] == "pass"
    assert report["errored"] == []
    assert report["baseline_notes"] == []
    compared = {c["evaluator"] for c in report["comparisons"]}
    assert compared == {key.split(":")[1] for key in committed_baseline["outcomes"]}
    assert compared == set(report["evaluators"])
    for c in report["comparisons"]:
        assert c["verdict"] == "unchanged", c
        assert (c["pass_to_fail"], c["fail_to_pass"], c["note"]) == ([], [], ""), c
        assert c["now"] == c["baseline"], c
    assert "evals gate: PASS" in run.stdout
    # every classification reply parsed; the guardrail's overrides are counted, not hidden
    rates = report["classification"]["evals"]
    assert (rates["total"], rates["fallback"]) == (48, 0)
    # SmolLM2 labels every query naming an order id order_status itself (the robustness
    # suite's SQL-shaped id is overridden, counted there)
    assert rates["overridden"] == 0
    assert f"guardrail overrides {rates['overridden']}/48" in run.stdout


# -- d. pytest-xdist -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def xdist(out) -> Run:
    return run_suite(out / "xdist.json", "-p", "xdist", "-n", "2")


def test_xdist_gives_the_same_report(xdist, unsharded):
    report = xdist.data()
    assert "bringing up nodes" in xdist.stdout  # it really ran under pytest-xdist
    for key in (*SAME, "baseline_notes", "errored"):
        assert report[key] == unsharded[key], key
    assert cases(report) == cases(unsharded)
    assert report["meta"]["goldens"] == unsharded["meta"]["goldens"]
    assert xdist.returncode == 0, xdist.output[-6000:]


# -- e. shards and merge -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shards(out) -> tuple[Run, Run, subprocess.CompletedProcess[str], Path]:
    one = run_suite(out / "shard1.json", "--supportbot-shard", "1/2")
    two = run_suite(out / "shard2.json", "--supportbot-shard", "2/2")
    merged = out / "merged.json"
    done = merge(
        str(out / "shard1.json"),
        str(out / "shard2.json"),
        "--report",
        str(merged),
        "--baseline",
        "tests/evals/baseline.json",
    )
    return one, two, done, merged


def test_shards_split_the_goldens(shards, unsharded):
    one, two = (run.data() for run in shards[:2])
    ids_one = {c["id"] for c in one["cases"]}
    ids_two = {c["id"] for c in two["cases"]}
    assert ids_one and ids_two
    assert not ids_one & ids_two
    assert ids_one | ids_two == {c["id"] for c in unsharded["cases"]}


def test_merged_shards_equal_the_unsharded_run(shards, unsharded):
    *_, done, merged = shards
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(merged.read_text())
    for key in SAME:
        assert report[key] == unsharded[key], key
    assert cases(report) == cases(unsharded)
    assert "evals gate: PASS" in done.stdout


# -- f. writing a baseline, and fingerprints -----------------------------------------------


def test_update_baseline_writes_outcomes_and_fingerprint(written_baseline, committed_baseline):
    run, path = written_baseline
    assert run.returncode == 0, run.output[-6000:]
    assert f"baseline written: {path}" in run.stdout
    data = json.loads(path.read_text())
    assert data["version"] == 1
    fingerprint = data["fingerprint"]
    assert set(fingerprint) == {
        "model",
        "judge_model",
        "judge_prompt",
        "agent_prompts",
        "judge",
        "agent_steps",
        "goldens",
    }
    assert fingerprint["judge"]["include_explanation"] is False
    assert fingerprint["agent_steps"]["classify"]["structured_output"] == "json_schema"
    assert all(fingerprint.values()), fingerprint
    assert fingerprint["model"] == "smollm2-135m-instruct-q4_1"
    assert {"classify", "faq_answer"} <= set(fingerprint["agent_prompts"])
    # the committed baseline holds exactly what this run writes from the committed cassettes
    # (it also holds the robustness suite, which this run of tests/evals does not run)
    ours = {k: v for k, v in data["outcomes"].items() if k.startswith("evals:")}
    assert ours == {
        k: v for k, v in committed_baseline["outcomes"].items() if k.startswith("evals:")
    }
    assert fingerprint["goldens"]["evals"] == committed_baseline["fingerprint"]["goldens"]["evals"]
    same = ("model", "judge_model", "judge_prompt", "agent_prompts", "judge", "agent_steps")
    assert {k: fingerprint[k] for k in same} == {
        k: committed_baseline["fingerprint"][k] for k in same
    }


def test_a_fresh_baseline_compares_all_unchanged(written_baseline, out):
    _, path = written_baseline
    run = run_suite(out / "fresh.json", "--supportbot-baseline", str(path))
    report = run.data()
    assert run.returncode == 0, run.output[-6000:]
    assert report["baseline_notes"] == []
    assert report["comparisons"]
    assert set(verdicts(report).values()) == {"unchanged"}
    assert "changed" not in "\n".join(report["warnings"])


def test_a_baseline_from_another_judge_model_is_warned_about(written_baseline, out):
    _, path = written_baseline
    data = json.loads(path.read_text())
    data["fingerprint"]["judge_model"] = "some-other-judge"
    edited = out / "other-judge.json"
    edited.write_text(json.dumps(data))
    run = run_suite(
        out / "other-judge-report.json", "-k", "tutorial", "--supportbot-baseline", str(edited)
    )
    report = run.data()
    assert "warning: baseline: the judge model changed" in run.stdout
    assert report["baseline_notes"] == ["the judge model changed"]
    assert "regressed" not in verdicts(report).values()


# -- g. Markdown and GitHub's job summary --------------------------------------------------


def test_job_summary_gets_the_markdown_table_appended(committed):
    _, summary, markdown = committed
    table = markdown.read_text()
    assert "| evaluator |" in table
    assert "retrieval_hit" in table
    assert table.startswith("### evals: PASS")
    rows = [line for line in table.splitlines() if line.startswith("| retrieval_hit |")]
    assert len(rows) == 1 and "unchanged" in rows[0]
    assert summary.read_text() == "previous step\n" + table


# -- h. repetitions without recordings -----------------------------------------------------


def test_repeat_without_recorded_repetitions_is_a_cassette_miss(out):
    run = run_suite(out / "repeat.json", "-k", "tutorial-refund", "--supportbot-repeat", "2")
    report = run.data()
    assert run.returncode == 1, run.output[-6000:]
    assert [(c["id"], c["repetition"]) for c in report["cases"]] == [
        ("tutorial-refund", 0),
        ("tutorial-refund", 1),
    ]
    assert report["errored"] == ["tutorial-refund@1"]
    assert report["gate"] == "fail"
    miss = report["cases"][1]
    assert miss["stale_cassette"] is True
    assert "Cassette miss in golden 'tutorial-refund@1'" in miss["error"]
    assert "evals record tutorial-refund@1" in miss["error"]
    assert "Cassette miss in golden 'tutorial-refund@1'" in run.stdout
    assert "re-record them with: evals record tutorial-refund@1" in run.stdout


# -- an unusable baseline ------------------------------------------------------------------


def test_an_unreadable_baseline_is_a_clean_error(out):
    bad = out / "bad-baseline.json"
    bad.write_text("{not json")
    run = run_suite(out / "bad.json", "-k", "tutorial-refund", "--supportbot-baseline", str(bad))
    assert run.returncode != 0
    assert f"baseline {bad} cannot be read" in run.output
    assert "--evals-update-baseline" in run.output
    assert "Traceback" not in run.output
