"""Ranking metrics of a retrieval, as evaluators: precision@k, MRR and NDCG@k (k = what was
retrieved), from the truth (the golden's ``relevant_ids``) and from the relevance judge's
per-document verdicts (``judged_*``, with the judge's hit rate).

A metric is a measurement, not an expectation: its check never misses; the suite's figure is the
mean over the goldens it applies to, gated by a threshold like a pass rate and compared with the
baseline golden by golden (a drop is a pass->fail flip in the exact test). A golden that expects
a ranking (it names ``relevant_ids``) but whose run retrieved nothing has nothing to measure: that
is a failure scored 0 in the threshold, and a lost measurement against the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from evals_core.judges import RETRIEVAL_RELEVANCE, Verdict
from pytest_supportbot_evals.evaluators.base import Evaluator, Outcome, TurnRun

#: The label of a metric check's expectation (a measurement: it never misses).
METRIC = "metric"
#: The judged metrics read the relevance judge's verdicts: when that judge is advisory (not
#: trusted), so are they.
JUDGED = ("judged_hit_rate", "judged_precision_at_k", "judged_mrr", "judged_ndcg_at_k")
DERIVED_FROM = dict.fromkeys(JUDGED, RETRIEVAL_RELEVANCE)


def precision(relevant: Sequence[bool]) -> float:
    return sum(relevant) / len(relevant) if relevant else 0.0


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    return next((1.0 / (i + 1) for i, hit in enumerate(relevant) if hit), 0.0)


def ndcg(relevant: Sequence[bool], ideal_hits: int) -> float:
    """Binary-relevance NDCG of a ranking; ``ideal_hits``: relevant documents there could be."""
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(relevant) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(ideal_hits, len(relevant))))
    return dcg / ideal if ideal else 0.0


def _truth(run: TurnRun) -> tuple[list[bool], int] | None:
    """Per retrieved document, whether the golden names it; and how many it names (a golden
    with ``relevant_ids: []`` says nothing answers it: every document is irrelevant)."""
    ids = getattr(run.golden, "relevant_ids", None)
    retrievers = run.spans_of("RETRIEVER")
    if ids is None or not retrievers:
        return None
    wanted = set(ids)
    ids = [str(doc["id"]) for doc in retrievers[0].documents]
    return [i in wanted for i in ids], len(wanted)


def _judged(verdicts: list[Verdict]) -> tuple[list[bool], int] | None:
    """Per retrieved document, whether the judge found it relevant (``None`` when it did not
    judge every document)."""
    docs = sorted(
        (v for v in verdicts if v.judge == RETRIEVAL_RELEVANCE and v.document_position is not None),
        key=lambda v: v.document_position or 0,
    )
    if not docs or any(v.label is None for v in docs):
        return None
    relevant = [v.label == "relevant" for v in docs]
    return relevant, sum(relevant)


def expects_ranking(run: TurnRun) -> str | None:
    """Why the golden expects a ranking to measure (it names the entries that answer it), or
    ``None``; a run without one then scores 0, a lost measurement (``Check.measured``)."""
    if getattr(run.golden, "relevant_ids", None):
        return "the golden names relevant entries, but nothing was retrieved"
    return None


def _expects_judged(run: TurnRun) -> str | None:
    """A judged ranking is expected where a ranking is, and wherever a relevance judge ran on a
    retrieval (one that failed on a document measured nothing)."""
    if run.judges.get(RETRIEVAL_RELEVANCE) is None:
        return None
    retrievers = run.spans_of("RETRIEVER")
    if any(span.documents for span in retrievers):
        return "the relevance judge gave no verdict on every retrieved document"
    return None if retrievers else expects_ranking(run)


def _metric(
    name: str,
    source: Callable[[TurnRun, list[Verdict]], tuple[list[bool], int] | None],
    value: Callable[[list[bool], int], float],
    description: str,
    expects: Callable[[TurnRun], str | None] = expects_ranking,
) -> Evaluator:
    def outcome(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
        found = source(run, verdicts)
        if found is None:
            why = expects(run)
            if why is not None:  # expected, not measured: a failure (0), lost against a baseline
                return Outcome(None, f"nothing to measure: {why}", score=0.0)
            return Outcome(None, "no ranking to measure (no retrieval, or no verdict per document)")
        relevant, ideal = found
        if not relevant and not ideal:  # nothing answers it and nothing was retrieved: right
            return Outcome("1.000", "nothing retrieved, and nothing answers the query", score=1.0)
        score = value(relevant, ideal)
        marks = "".join("R" if hit else "-" for hit in relevant)
        return Outcome(f"{score:.3f}", f"ranking {marks} (R: relevant)", score=score)

    return Evaluator(
        name,
        (METRIC,),
        outcome,
        implied=lambda golden: METRIC,
        description=description,
        metric=True,
    )


def ranking_evaluators() -> list[Evaluator]:
    """Ground-truth metrics (goldens with ``relevant_ids``), then the judge's."""

    def truth(run: TurnRun, verdicts: list[Verdict]) -> tuple[list[bool], int] | None:
        return _truth(run)

    def judged(run: TurnRun, verdicts: list[Verdict]) -> tuple[list[bool], int] | None:
        return _judged(verdicts)

    return [
        _metric("precision_at_k", truth, _p, "share of retrieved docs the golden names"),
        _metric("mrr", truth, _rr, "1/rank of the first doc the golden names"),
        _metric("ndcg_at_k", truth, ndcg, "NDCG of the ranking against the golden's ids"),
        *(
            _metric(name, judged, value, description, _expects_judged)
            for name, value, description in (
                ("judged_hit_rate", _hit, "the judge found a relevant doc"),
                ("judged_precision_at_k", _p, "share of docs the judge found relevant"),
                ("judged_mrr", _rr, "1/rank of the first doc judged relevant"),
                ("judged_ndcg_at_k", ndcg, "NDCG of the ranking by the judge's verdicts"),
            )
        ),
    ]


def _p(relevant: Sequence[bool], ideal: int) -> float:
    return precision(relevant)


def _rr(relevant: Sequence[bool], ideal: int) -> float:
    return reciprocal_rank(relevant)


def _hit(relevant: Sequence[bool], ideal: int) -> float:
    return float(any(relevant))
