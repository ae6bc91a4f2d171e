"""Closing the loop end to end, all real: a scripted ``supportbot chat --session`` against the
local LLM server (Gemma 3 270M behind llama.cpp) with two thumbs-down, ``export-goldens`` from a
real ``phoenix serve``, recording the new cases with ``evals record``, then the suite
replaying them offline and gating; the golden set pushed as a Phoenix dataset and the run logged
as an experiment, both read back through phoenix-client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from integration_helpers import recorded_settings

from pytest_supportbot_evals.recording.secrets import scan_paths
from pytest_supportbot_evals.run.goldens import load_goldens

ORDER = "What's the status of order ORD-12345?"
FOLLOW_UP = "When will it arrive?"
PREMIUM = "How do I upgrade to premium?"
#: A two-turn conversation (up, then down) and, in a chat without a session, one more down.
SESSION_INPUT = f"{ORDER}\ny\n{FOLLOW_UP}\nn\n"
SINGLE_INPUT = f"{PREMIUM}\nn\n"
BIN = Path(sys.executable).parent

TEST_FILE = """
def test_golden(supportbot_results, supportbot_assert):
    supportbot_assert(supportbot_results)
"""


@pytest.fixture(scope="module")
def llm_url():
    """The real local LLM server (installed and started on first use; loopback only)."""
    from devservices.llm_router import ModelRouter

    with ModelRouter() as server:
        yield server.base_url


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> str:
    done = subprocess.run(
        args, input=stdin, env=env, cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{args[:2]} failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def wait_for_feedback(client, project: str, count: int, timeout: float = 60.0) -> None:
    """Phoenix ingests asynchronously: wait until ``count`` thumbs are stored."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            spans = client.spans.get_spans(project_identifier=project, name="support-agent")
            ids = [s["context"]["span_id"] for s in spans]
            found = client.spans.get_span_annotations(span_ids=ids, project_identifier=project)
            if sum(a["name"] == "user_feedback" for a in found) >= count:
                return
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:  # 404 until the first span is stored
                raise
        time.sleep(0.5)
    raise AssertionError(f"{count} user_feedback annotations never reached Phoenix")


def test_chat_thumbs_down_become_goldens_that_record_and_gate(
    phoenix_url, phoenix_client, project, llm_url, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PHOENIX_"))}
    env.update(recorded_settings(), PHOENIX_PROJECT_NAME=project, OPENAI_BASE_URL=llm_url)
    env["OPENAI_API_KEY"] = "sk-fake-key-that-must-never-be-written-0123456789"

    # 1. Scripted chats with feedback, traced to Phoenix: a conversation, then a lone query.
    chat = [str(BIN / "supportbot"), "--phoenix", phoenix_url, "chat"]
    out = run([*chat, "--session"], env, tmp_path, SESSION_INPUT)
    assert "session: chat-" in out and "thumbs-down recorded" in out
    assert "thumbs-down recorded" in run(chat, env, tmp_path, SINGLE_INPUT)
    wait_for_feedback(phoenix_client, project, 3)

    # 2. Export the thumbs-down runs as golden cases, and push them as a dataset.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_exported.py").write_text(TEST_FILE)
    golden_file = tmp_path / "goldens" / "exported.yaml"
    export = [
        str(BIN / "evals"),
        "export-goldens",
        "--phoenix",
        phoenix_url,
        "--out",
        str(golden_file),
        "--dataset",
        f"{project}-goldens",
    ]
    out = run(export, env, tmp_path)
    assert "exported 2 new golden case(s)" in out
    cases = load_goldens([golden_file])
    assert len(cases) == 2
    conversation = next(c for c in cases if c.is_conversation)
    assert [t.query for t in conversation.turns] == [ORDER, FOLLOW_UP]
    assert conversation.turns[1].human_label == {"user_feedback": "thumbs-down"}
    assert conversation.turns[0].human_label == {"user_feedback": "thumbs-up"}
    single = next(c for c in cases if not c.is_conversation)
    assert single.query == PREMIUM and single.human_label == {"user_feedback": "thumbs-down"}
    for case in cases:
        assert "label" in case.review
        assert case.origin["trace_id"] in case.origin["url"]
        assert case.origin["url"].startswith(f"{phoenix_url}/projects/")
    assert "exported 0 new golden case(s)" in run(export, env, tmp_path)  # nothing twice
    assert len(load_goldens([golden_file])) == 2
    dataset = phoenix_client.datasets.get_dataset(dataset=f"{project}-goldens")
    assert sorted(e["input"]["query"] for e in dataset.examples) == sorted(
        [ORDER, FOLLOW_UP, PREMIUM]
    )

    # 3. Record the new cases against the local LLM, in a project of their own.
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nsupportbot_goldens = goldens\nsupportbot_cassettes = cassettes\n"
        f"supportbot_model = {env['SUPPORTBOT_MODEL']}\n"
        f"supportbot_max_tokens = {env['SUPPORTBOT_MAX_TOKENS']}\n"
        f"supportbot_classify_max_tokens = {env['SUPPORTBOT_CLASSIFY_MAX_TOKENS']}\n"
        f"supportbot_judge_max_tokens = {env['SUPPORTBOT_JUDGE_MAX_TOKENS']}\n"
    )
    record = [
        str(BIN / "evals"),
        "record",
        "--tests",
        "tests/test_exported.py",
        "--goldens",
        "goldens",
    ]
    assert "recorded 3 case run(s)" in run(record, env, tmp_path)
    cassettes = sorted(p.name for p in (tmp_path / "cassettes").iterdir())
    assert cassettes == sorted(f"{c.id}.yaml" for c in cases)
    assert scan_paths([tmp_path / "cassettes"], env) == []  # the fake key reached no cassette

    # 4. Replay offline (nothing live: the LLM URL does not exist) and gate; log an experiment.
    env.update(OPENAI_BASE_URL="http://llm.invalid/v1", SUPPORTBOT_MAX_RETRIES="0")
    env.pop("OPENAI_API_KEY")
    report = tmp_path / "report.json"
    replay = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests",
        f"--supportbot-report={report}",
        f"--supportbot-phoenix={phoenix_url}",
        f"--supportbot-experiment={project}-goldens",
    ]
    out = run(replay, env, tmp_path)
    data = json.loads(report.read_text())
    assert data["gate"] == "pass"
    assert sorted(c["id"] for c in data["cases"]) == sorted(
        [f"{conversation.id}#1", f"{conversation.id}#2", single.id]
    )
    assert all(c["error"] is None and c["review"] for c in data["cases"])
    assert "await human review" in out and "experiment logged" in out

    run(replay, env, tmp_path)  # a second run: a second experiment to compare with the first
    experiments = phoenix_client.experiments.list(dataset_id=dataset.id)
    assert len(experiments) == 2
    for experiment in experiments:
        ran = phoenix_client.experiments.get_experiment(experiment_id=experiment["id"])
        assert len(ran["task_runs"]) == 3
        assert {e.name for e in ran["evaluation_runs"]} >= {"label", "order_lookup"}
    assert len(phoenix_client.datasets.get_dataset(dataset=f"{project}-goldens")) == 3
    assert yaml.safe_load(golden_file.read_text())["cases"][0]["review"]
