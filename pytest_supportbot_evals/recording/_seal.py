"""Tamper-evident cassettes: a digest of every recorded interaction, kept in the cassette.

``record`` writes, in the cassette's vcrpy ``metadata``, one digest per interaction (its request
and its response as recorded). Replay and ``evals check-cassettes`` recompute them: a
recorded reply edited by hand (one judge label changed moves a pass rate) fails, naming the
golden, the interaction and the re-record command. A deliberate edit must be re-recorded, or
re-sealed with ``evals seal PATH``: the new digests show in review.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from pytest_supportbot_evals.recording._recorder import canonical_of, rerecord_command

SEAL_KEY = "evals_seal"
#: The key cassettes recorded before the neutral names carry; still verified.
LEGACY_SEAL_KEY = "supportbot_seal"
SEAL_VERSION = 1


class SealError(ValueError):
    """A cassette's recordings do not match their seal (or it has none); says what to do."""


def digest(request: Any, response: dict[str, Any]) -> str:
    """A digest of one interaction: the request (method, URI, body) and the whole response."""
    body = response.get("body", {}).get("string", b"")
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {
        str(k).lower(): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
        for k, vs in (response.get("headers") or {}).items()
    }
    material = [
        request.method,
        request.uri,
        canonical_of(request.body),
        response.get("status"),
        sorted(headers.items()),
        base64.b64encode(body).decode("ascii"),
    ]
    text = json.dumps(material, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def seal(requests: list[Any], responses: list[dict[str, Any]]) -> dict[str, Any]:
    """The seal metadata of a cassette's interactions."""
    return {
        "version": SEAL_VERSION,
        "digests": [digest(q, r) for q, r in zip(requests, responses, strict=True)],
    }


def problems(
    path: Path, requests: list[Any], responses: list[dict[str, Any]], metadata: Any
) -> list[str]:
    """What does not match the seal (empty when the cassette is intact)."""
    stored = None
    if isinstance(metadata, dict):
        stored = metadata.get(SEAL_KEY) or metadata.get(LEGACY_SEAL_KEY)
    if not stored or not isinstance(stored.get("digests"), list):
        return [f"{path} is not sealed (written by hand, or by an older version)"]
    expected = stored["digests"]
    found = [digest(q, r) for q, r in zip(requests, responses, strict=True)]
    out = []
    if len(expected) != len(found):
        out.append(
            f"{path}: the seal covers {len(expected)} interactions, the file has {len(found)}"
        )
    for index, (want, got) in enumerate(zip(expected, found, strict=False)):
        if want != got:
            step = _step(requests[index])
            out.append(
                f"{path}: recorded interaction {index + 1} ({step}) does not match its seal: "
                "edited after it was recorded"
            )
    return out


def explain(path: Path, found: list[str]) -> str:
    """One error for a cassette that fails its seal: what, and the two ways out."""
    return (
        f"Cassette of golden {path.stem!r}: " + "; ".join(found) + ". Recorded replies are never "
        f"edited by hand: re-record it ({rerecord_command([path.stem])}), or, for a deliberate "
        f"edit that review should see, re-seal it: evals seal {path}"
    )


def _step(request: Any) -> str:
    from pytest_supportbot_evals.run.steps import step_of

    return step_of(request, default=f"{request.method} {request.path}")
