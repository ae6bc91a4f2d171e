"""Integration helpers (fixtures are in conftest.py): replay of the committed cassettes.

LLM calls are replayed from cassettes recorded against the real local model. The LLM base URL
points at a host that does not exist, so anything not in a cassette fails instead of going out;
Phoenix on 127.0.0.1 is passed through to the real server.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

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
        "SUPPORTBOT_MODEL": ini["supportbot_model"],
        "SUPPORTBOT_MAX_TOKENS": ini["supportbot_max_tokens"],
        "SUPPORTBOT_CLASSIFY_MAX_TOKENS": ini["supportbot_classify_max_tokens"],
        "SUPPORTBOT_JUDGE_MAX_TOKENS": ini["supportbot_judge_max_tokens"],
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
    from pytest_supportbot_evals.cassettes import reseal

    reseal(path)
    return path


def annotations_by_name(client, project: str, span_ids: list[str]) -> dict[str, list[dict]]:
    found = client.spans.get_span_annotations(span_ids=span_ids, project_identifier=project)
    grouped: dict[str, list[dict]] = {}
    for annotation in found:
        grouped.setdefault(annotation["name"], []).append(annotation)
    return grouped
