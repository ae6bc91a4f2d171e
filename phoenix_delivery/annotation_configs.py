"""Phoenix annotation configs for every annotation SupportBot and its evals write, so Phoenix's
Annotate form offers the same labels the CLI and the plugin write (the tutorial's Settings ->
Annotations step, done idempotently through Phoenix's REST API).

``user_feedback``: Phoenix ships a default config of that name with ``positive``/``negative``;
ours replaces its labels with the tutorial's ``thumbs-up``/``thumbs-down``, so a human in the UI and
``supportbot chat`` write the same labels (``export-goldens`` reads old ``positive``/``negative``
ones as thumbs too).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).parent / "data" / "annotation_configs.json"
#: Labels Phoenix's default ``user_feedback`` config writes, read as ours.
FEEDBACK_ALIASES = {"positive": "thumbs-up", "negative": "thumbs-down"}


def configs() -> list[dict[str, Any]]:
    return json.loads(CONFIGS.read_text(encoding="utf-8"))


def ensure(http: Any, project: str, extra: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Create or update each config to ours (and ``extra`` ones: the evaluators a team
    registered) and assign it to ``project``; return what changed.

    ``http`` is an ``httpx.Client`` on Phoenix's base URL. Idempotent: a config that already has
    our labels is left as it is; assigning is idempotent in Phoenix.
    """
    changed = []
    ours = configs()
    names = {c["name"] for c in ours}
    for config in [*ours, *(c for c in extra if c["name"] not in names)]:
        found = http.get(f"/v1/annotation_configs/{config['name']}")
        if found.status_code == 404:
            response = http.post("/v1/annotation_configs", json=config)
            response.raise_for_status()
            config_id = response.json()["data"]["id"]
            changed.append(f"created {config['name']}")
        else:
            found.raise_for_status()
            current = found.json()["data"]
            config_id = current["id"]
            if _shape(current) != _shape(config):
                http.put(f"/v1/annotation_configs/{config_id}", json=config).raise_for_status()
                changed.append(f"updated {config['name']}")
        http.put(f"/v1/projects/{project}/annotation_configs/{config_id}").raise_for_status()
    return changed


def _shape(config: dict[str, Any]) -> tuple[Any, ...]:
    """What ours must match: type, labels and scores, bounds (a CONTINUOUS config without an
    upper bound shows "from 0 to null" in Phoenix's UI, whose input then caps at 1)."""
    values = [(v["label"], v.get("score")) for v in config.get("values") or []]
    bounds = [_number(config.get(k)) for k in ("lower_bound", "upper_bound")]
    return config.get("type"), values, bounds, config.get("optimization_direction")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def categorical(name: str, description: str, scores: Mapping[str, float | None]) -> dict[str, Any]:
    """A categorical config with these labels (and ``judge_error``, a judge that gave none)."""
    values = [{"label": k, **({"score": v} if v is not None else {})} for k, v in scores.items()]
    return {
        "name": name,
        "type": "CATEGORICAL",
        "description": description[:400],
        "optimization_direction": "MAXIMIZE",
        "values": [*values, {"label": "judge_error"}],
    }
