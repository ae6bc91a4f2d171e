"""What a run logs to Phoenix as annotations: each judge's verdicts (span and document
annotations), each golden's pass/fail and each turn's tokens, with the metadata that says where
they come from (golden id, git commit, models, prompt hashes) and how far a judge is trusted.

Annotations are built at the end of the session, after the analysis: a judge's calibration
against the goldens' truth is known by then, so an untrusted judge's verdicts say so in Phoenix
(``phoenix_payloads.with_trust``) from their first delivery.
"""

from __future__ import annotations

from typing import Any

from phoenix_delivery.phoenix_payloads import (
    ADVISORY,
    TRUSTED,
    UNCALIBRATED,
    UNTRUSTED,
    document_annotation,
    golden_annotation,
    token_annotation,
    verdict_annotation,
    with_trust,
)
from pytest_supportbot_evals.run.session import EvalSession
from pytest_supportbot_evals.verdict import tokens
from pytest_supportbot_evals.verdict.analysis import Analysis

ANNOTATION_PREFIX = "evals"
#: The agent span's token figures (a CONTINUOUS annotation config).
TOKENS_ANNOTATION = "tokens"


def judge_trust(analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Per judge calibrated in this run, and per metric computed from its verdicts
    (``judged_*``), the trust metadata of its annotations (``phoenix_payloads.TRUST_KEYS``)."""
    from pytest_supportbot_evals.evaluators.ranking import DERIVED_FROM

    found: dict[str, dict[str, Any]] = {}
    advisory = analysis.advisory
    for cal in analysis.calibrations:
        kappa, accuracy = cal.kappa, cal.accuracy
        status = TRUSTED if cal.trusted else ADVISORY if cal.judge in advisory else UNTRUSTED
        found[cal.judge] = {
            "trust": status,
            "calibration_kappa": None if kappa is None else round(kappa, 4),
            "calibration_accuracy": None if accuracy is None else round(accuracy, 4),
            "calibration_pairs": cal.n,
            "calibration": cal.why(),
        }
    for metric, judge in DERIVED_FROM.items():
        if judge in found:
            found[metric] = {**found[judge], "derived_from": judge}
    return found


def _trust_of(trust: dict[str, dict[str, Any]], verdict: Any) -> dict[str, Any] | None:
    """A judge's trust; an LLM judge no truth calibrated in this run is ``uncalibrated``."""
    if verdict.judge in trust:
        return trust[verdict.judge]
    if verdict.annotator_kind == "LLM":
        return {"trust": UNCALIBRATED, "calibration": "no golden truth for it in this run"}
    return None


def verdict_metadata(meta: dict[str, Any], result: Any, verdict: Any) -> dict[str, Any]:
    """The metadata of a verdict's annotation (span or document)."""
    return {
        "git_commit": meta["git_commit"],
        "model": meta["model"],
        "golden_id": result.case_id,
        "suite": result.suite,
        "agent_model": meta["model"],
        "evaluator": verdict.judge,
        "source": ANNOTATION_PREFIX,
        "prompt_hash": meta["evaluator_templates"].get(verdict.judge)
        or meta["judge_prompt"].get(f"judge_{verdict.judge}"),
    }


def document_annotations(session: EvalSession, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-document verdicts (retrieval relevance) as document annotations at their positions."""
    trust = judge_trust(session.analysis())
    return [
        with_trust(document_annotation(v, verdict_metadata(meta, r, v)), _trust_of(trust, v))
        for r in session.results
        for v in r.verdicts
        if v.document_position is not None
    ]


def annotations(session: EvalSession, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Span annotations: every span verdict, each golden's pass/fail, each turn's tokens."""
    analysis = session.analysis()
    trust, advisory = judge_trust(analysis), analysis.advisory
    base = {"git_commit": meta["git_commit"], "model": meta["model"]}
    items = [
        with_trust(verdict_annotation(v, verdict_metadata(meta, r, v)), _trust_of(trust, v))
        for r in session.results
        for v in r.verdicts
        if v.document_position is None
    ]
    for r in session.results:
        identifier = f"{ANNOTATION_PREFIX}:{r.suite}:{r.case_id}:{r.repetition}"
        golden = {**base, "golden_id": r.case_id, "suite": r.suite}
        if r.span_id and r.error is None:
            failures = [
                c.describe() + (" (advisory: untrusted judge)" if c.evaluator in advisory else "")
                for c in r.failed_checks()
            ]
            metadata = {**golden, "prompt_hashes": meta["agent_prompts"]}
            items.append(
                golden_annotation(
                    span_id=r.span_id, identifier=identifier, failures=failures, metadata=metadata
                )
            )
        if r.span_id and r.tokens:
            used = tokens.split(r.tokens)
            items.append(
                token_annotation(
                    span_id=r.span_id,
                    identifier=identifier,
                    agent=used["agent"],
                    judge=used["judge"],
                    metadata={**golden, "steps": r.tokens},
                )
            )
    return items
