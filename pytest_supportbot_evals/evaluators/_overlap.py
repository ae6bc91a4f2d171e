"""Word overlap between a query and a retrieved document: a deterministic relevance signal.

The share of the query's content words (lower-cased, function words dropped, a plural or verb
ending stripped) that the document contains. No model: the same documents always get the same
figure, and it costs nothing. Plain, and measured: on the committed goldens it ranks the
documents their ``relevant_ids`` name above the others far better than the local models judge
them (README, "The recording model").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from evals_core.judges import RELEVANCE_CHOICES, Verdict, span_verdict
from evals_core.spans import SpanView
from pytest_supportbot_evals.evaluators.base import Evaluator, TurnRun, first_verdict

RETRIEVAL_OVERLAP = "retrieval_overlap"
RELEVANCE_LABELS = ("relevant", "irrelevant")
WORD = re.compile(r"[a-z0-9]+")
#: Function words and support-chat filler: sharing them says nothing about the topic.
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can
    could did do does doing don for from get got had has have having he her here hers him his
    how i if in into is it its just let me more most my no nor not now of off on once only or
    other our ours out over own please same she should so some such than that the their them
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would yes you your yours hi hello thanks thank
    want need know tell help like way much many one anything something q""".split()
)
#: A document is judged relevant when it contains at least this share of the query's words.
DEFAULT_MIN_OVERLAP = 0.5


def stem(word: str) -> str:
    """A crude stem: enough to match ``returns``/``return``, ``cancelled``/``cancel``."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    """The content words of ``text``, stemmed."""
    words = WORD.findall(text.lower())
    return {stem(w) for w in words if len(w) > 1 and w not in STOPWORDS}


def overlap(query: str, document: str) -> float:
    """The share of the query's content words found in the document (0.0 for a query with
    none)."""
    wanted = terms(query)
    return len(wanted & terms(document)) / len(wanted) if wanted else 0.0


def overlap_label(query: str, document: str, minimum: float = DEFAULT_MIN_OVERLAP) -> str:
    return "relevant" if overlap(query, document) >= minimum else "irrelevant"


def overlap_verdicts(span: SpanView, minimum: float = DEFAULT_MIN_OVERLAP) -> list[Verdict]:
    """The lexical judge on one RETRIEVER span: its verdict (``relevant`` when any document is),
    then one verdict per document, in rank order, as the LLM relevance judge gives them."""
    ids = (span.span_id, span.trace_id)
    wanted = terms(str(span.get("input.value", "")))
    documents = []
    for position, doc in enumerate(span.documents):
        shared = wanted & terms(str(doc.get("content", "")))
        share = len(shared) / len(wanted) if wanted else 0.0
        label = "relevant" if share >= minimum else "irrelevant"
        why = (
            f"shares {len(shared)} of the query's {len(wanted)} words ({share:.0%} "
            f"{'>=' if label == 'relevant' else '<'} {minimum:.0%})"
            + (f": {', '.join(sorted(shared))}" if shared else "")
        )
        document_id = None if doc.get("id") is None else str(doc["id"])
        score = RELEVANCE_CHOICES[label][0]
        verdict = Verdict(RETRIEVAL_OVERLAP, *ids, label, score, why[:300], "CODE")
        documents.append(replace(verdict, document_position=position, document_id=document_id))
    return [span_verdict(span, documents, None, RETRIEVAL_OVERLAP, "CODE"), *documents]


def overlap_evaluator() -> Evaluator:
    """``retrieval_overlap`` (CODE): is what the RETRIEVER span found relevant, by word overlap?

    Its expectation is implied by the golden's ``relevant_ids`` (``relevant`` when it names an
    entry, ``irrelevant`` for ``[]``); like any judge of documents it is calibrated per document
    against them, and gates only while trusted."""

    def judge(run: TurnRun) -> list[Verdict]:
        return [v for span in run.spans_of("RETRIEVER") for v in overlap_verdicts(span)]

    def implied(golden: Any) -> str | None:
        ids = getattr(golden, "relevant_ids", None)
        return None if ids is None else ("relevant" if ids else "irrelevant")

    return Evaluator(
        RETRIEVAL_OVERLAP,
        RELEVANCE_LABELS,
        first_verdict(RETRIEVAL_OVERLAP, "no RETRIEVER span in the trace"),
        judge=judge,
        human_labels=RELEVANCE_LABELS,
        implied=implied,
        description="code judge: does a retrieved document share most of the query's words?",
    )
