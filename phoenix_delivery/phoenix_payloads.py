"""What is sent to Phoenix, as data: OTLP span batches and span annotations.

Plain functions, no network: the sink (``phoenix_sink``), the CLI and the plugin build their
payloads here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

#: A golden run's pass/fail on its agent span.
GOLDEN_ANNOTATION = "evals_golden"
#: The agent span's token figures (a CONTINUOUS annotation config).
TOKENS_ANNOTATION = "tokens"


def span_ids(data: bytes) -> list[str]:
    """The (hex) span ids in an OTLP ``ExportTraceServiceRequest``."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest.FromString(data)
    return [
        span.span_id.hex()
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def encode_spans(spans: Sequence[Any]) -> str:
    """OTLP protobuf of ``ReadableSpan`` objects, base64 text (spool- and JSON-safe)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as encode

    return base64.b64encode(encode(spans).SerializeToString()).decode("ascii")


def span_annotation(
    *,
    span_id: str,
    name: str,
    annotator_kind: str,
    label: str | None,
    score: float | None,
    explanation: str | None,
    identifier: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """A ``SpanAnnotationData`` dict as phoenix-client and Phoenix's REST API take it."""
    result: dict[str, Any] = {}
    if label is not None:
        result["label"] = label
    if score is not None:
        result["score"] = score
    if explanation:
        result["explanation"] = explanation
    return {
        "span_id": span_id,
        "name": name,
        "annotator_kind": annotator_kind,
        "result": result,
        "identifier": identifier,
        "metadata": metadata,
    }


#: The label of a judgement that failed (no verdict): never an empty annotation.
JUDGE_ERROR = "judge_error"


def verdict_identifier(judge: str) -> str:
    """One annotation per judge per span, whoever judged it (the plugin or ``evaluate``): a
    re-judgement updates it instead of adding a second one."""
    return f"judge:{judge}"


def verdict_annotation(verdict: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """The span annotation of a judge's ``Verdict``; a failed judgement is labelled
    ``judge_error``, with no score, and says why. ``metadata["model"]`` is the judge's model."""
    failed = verdict.label is None
    return span_annotation(
        span_id=verdict.span_id,
        name=verdict.judge,
        annotator_kind=verdict.annotator_kind,
        label=JUDGE_ERROR if failed else verdict.label,
        score=None if failed else verdict.score,
        explanation=verdict.explanation
        or (f"judge failed: {verdict.error}" if verdict.error else None)
        or ("judge failed: no verdict" if failed else None),
        identifier=verdict_identifier(verdict.judge),
        metadata={**metadata, "model": verdict.model},
    )


def document_annotation(verdict: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """The document annotation (``SpanDocumentAnnotationData``) of a verdict on one retrieved
    document: at its position in the RETRIEVER span, named after the judge. Phoenix keeps one
    per name, span and position (it takes no identifier here), so a re-judgement updates it."""
    annotation = verdict_annotation(verdict, metadata)
    return {
        **annotation,
        "document_position": verdict.document_position,
        "identifier": "",
    }


#: The metadata keys that say how far a judge's verdicts can be trusted (see ``with_trust``).
TRUST_KEYS = (
    "trust",
    "calibration_kappa",
    "calibration_accuracy",
    "calibration_pairs",
    "calibration",
    "derived_from",
)
#: ``trust`` values: calibrated and agreeing with the truth; calibrated and not (``advisory``:
#: it does not decide the gate; ``untrusted``: it gates anyway, strict judges); no truth to
#: calibrate against.
TRUSTED, ADVISORY, UNTRUSTED, UNCALIBRATED = "trusted", "advisory", "untrusted", "uncalibrated"


def with_trust(annotation: dict[str, Any], trust: dict[str, Any] | None) -> dict[str, Any]:
    """The annotation with its judge's trust in its metadata (``TRUST_KEYS``).

    An untrusted judge's annotation says so first in its explanation, and carries no score
    (kept in metadata as ``judge_score``): Phoenix computes its ranking metrics (NDCG,
    precision, hit rate) and score means from the scores of LLM annotations, and would show an
    untrusted judge's "relevant" as a perfect ranking. Its label stays the judge's own.
    """
    if not trust:
        return annotation
    metadata = {k: v for k, v in annotation["metadata"].items() if k not in TRUST_KEYS}
    metadata.update({k: v for k, v in trust.items() if k in TRUST_KEYS})
    result = dict(annotation["result"])
    if trust.get("trust") in (ADVISORY, UNTRUSTED):
        if "score" in result:
            metadata["judge_score"] = result.pop("score")
        head = (
            f"{trust['trust'].upper()}: this judge is not trusted "
            f"({trust.get('calibration') or 'no agreement with the truth'}); "
            "its label is not a measurement"
        )
        if trust.get("derived_from"):
            head += f" (computed from {trust['derived_from']}'s verdicts)"
        said = result.get("explanation")
        result["explanation"] = head + (f". {said}" if said else ".")
    return {**annotation, "result": result, "metadata": metadata}


def golden_annotation(
    *, span_id: str, identifier: str, failures: Sequence[str], metadata: dict[str, Any]
) -> dict[str, Any]:
    """A golden run's verdict on its agent span: ``pass``, or ``fail`` naming each missed
    expectation (``failures``, one text each)."""
    return span_annotation(
        span_id=span_id,
        name=GOLDEN_ANNOTATION,
        annotator_kind="CODE",
        label="fail" if failures else "pass",
        score=0.0 if failures else 1.0,
        explanation="; ".join(failures) or "all expectations held",
        identifier=identifier,
        metadata=metadata,
    )


def token_annotation(
    *,
    span_id: str,
    identifier: str,
    agent: Mapping[str, int],
    judge: Mapping[str, int],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """The agent span's token figures: score = the agent's tokens (prompt and completion); the
    judges' in the explanation. ``agent``/``judge``: ``prompt``, ``completion``, ``calls``."""
    agent_total = int(agent["prompt"]) + int(agent["completion"])
    judge_total = int(judge["prompt"]) + int(judge["completion"])
    return span_annotation(
        span_id=span_id,
        name=TOKENS_ANNOTATION,
        annotator_kind="CODE",
        label=None,
        score=float(agent_total),
        explanation=(
            f"agent {agent['prompt']:,} prompt + {agent['completion']:,} completion tokens in "
            f"{agent['calls']} calls; judges {judge_total:,} tokens in {judge['calls']} calls"
        ),
        identifier=f"{identifier}:tokens",
        metadata=metadata,
    )


def experiment_metadata(meta: Mapping[str, Any], gate: str) -> tuple[str, dict[str, Any]]:
    """(name, metadata) of a run logged as a Phoenix experiment, from the run's ``meta``: named
    after the agent (its ``AgentSpec.name``), the commit and the model."""
    name = f"{meta.get('agent') or 'agent'} {meta['git_commit'] or 'local'} {meta['model']}"
    return name, {
        "git_commit": meta["git_commit"],
        "model": meta["model"],
        "gate": gate,
        "agent_prompts": meta["agent_prompts"],
    }
