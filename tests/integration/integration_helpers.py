"""Integration helpers (fixtures are in conftest.py): replay of the committed cassettes.

LLM calls are replayed from cassettes recorded against the real local model. The LLM base URL
points at a host that does not exist, so anything not in a cassette fails instead of going out;
Phoenix on 127.0.0.1 is passed through to the real server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from pytest_supportbot_evals.run.steps import recorded_step

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
#: Phoenix is reached as "localhost" inside cassette blocks and passed through by vcrpy; the
#: recorded LLM requests went to 127.0.0.1, which must stay matched (vcrpy drops ignored hosts
#: from a cassette when it loads it).
PHOENIX_HOSTS = ("localhost",)


def recorded_settings() -> dict[str, str]:
    """The model and token budgets the committed cassettes were recorded with (pyproject ini)."""
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {
        "SUPPORTBOT_MODEL": ini["evals_model"],
        "SUPPORTBOT_ANSWER_MODEL": ini.get("evals_answer_model") or "",
        "SUPPORTBOT_MAX_TOKENS": ini["evals_max_tokens"],
        "SUPPORTBOT_CLASSIFY_MAX_TOKENS": ini["evals_classify_max_tokens"],
        "SUPPORTBOT_JUDGE_MAX_TOKENS": ini["evals_judge_max_tokens"],
        "SUPPORTBOT_CLASSIFY_TOP_LOGPROBS": ini.get("evals_classify_top_logprobs") or "0",
    }


def merged_cassette(tmp_path: Path, golden_ids: list[str]) -> Path:
    """One cassette holding the recorded interactions of several goldens, in order.

    The interactions are copied as recorded (never edited), so that one CLI session that asks
    several golden queries can be replayed.
    """
    interactions = []
    for golden_id in golden_ids:
        data = yaml.safe_load((CASSETTES / f"{golden_id}.yaml").read_text())
        interactions.extend(data["interactions"])
    path = tmp_path / "merged.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    # The recordings are unchanged, only put together: sealed as such (see seal.py).
    from pytest_supportbot_evals.recording.cassettes import reseal

    reseal(path)
    return path


def annotations_by_name(client, project: str, span_ids: list[str]) -> dict[str, list[dict]]:
    found = client.spans.get_span_annotations(span_ids=span_ids, project_identifier=project)
    grouped: dict[str, list[dict]] = {}
    for annotation in found:
        grouped.setdefault(annotation["name"], []).append(annotation)
    return grouped


def run_suite(tmp_path: Path, phoenix_url: str, *extra: str) -> tuple[Any, dict]:
    """The repo's eval suite (tutorial goldens) against a real Phoenix, in a subprocess; the
    completed process and its JSON report."""
    report = tmp_path / "report.json"
    command = [
        sys.executable, "-m", "pytest", "tests/evals", "-q", "-p", "no:cacheprovider",
        "-k", "tutorial-", f"--supportbot-phoenix={phoenix_url}",
        f"--supportbot-report={report}", "-o", f"supportbot_spool={tmp_path / 'spool.jsonl'}",
        "-o", "supportbot_thresholds=", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert report.exists(), done.stdout + done.stderr
    return done, json.loads(report.read_text())


def graphql(phoenix_url: str, query: str, **variables: Any) -> dict:
    """One query to Phoenix's GraphQL API (what its UI reads); its ``data``."""
    import httpx

    answer = httpx.post(
        f"{phoenix_url}/graphql", json={"query": query, "variables": variables}, timeout=30
    ).json()
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


def served_model(golden_id: str, step: str) -> str:
    """The model the recorded reply of a step says answered (``model`` of the reply, as
    ``llm.served_name`` names it), read from the golden's cassette."""
    from evals_core.llm import served_name

    data = yaml.safe_load((CASSETTES / f"{golden_id}.yaml").read_text())
    for interaction in data["interactions"]:
        if recorded_step(interaction["request"]["headers"]) == step:
            return served_name(json.loads(interaction["response"]["body"]["string"])["model"])
    raise AssertionError(f"no {step} reply in the cassette of {golden_id}")


def evaluate_replayed(monkeypatch: Any, phoenix: Any, tmp_path: Path, golden_ids: list[str]) -> Any:
    """``supportbot evaluate`` on a real Phoenix, the judge's replies replayed from the goldens'
    cassettes (nothing live); the cassette's use (its misses)."""
    from supportbot.cli import main

    from pytest_supportbot_evals.recording.cassettes import use_cassette

    for name, value in recorded_settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://llm.invalid/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    local = f"http://localhost:{phoenix.port}"  # passed through by the cassette (PHOENIX_HOSTS)
    evaluate = ["--phoenix", local, "--spool", str(tmp_path / "evaluate.jsonl"), "evaluate"]
    with use_cassette(merged_cassette(tmp_path, golden_ids), "none", PHOENIX_HOSTS) as use:
        assert main(evaluate) == 0
    return use
