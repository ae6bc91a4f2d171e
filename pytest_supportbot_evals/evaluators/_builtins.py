"""The built-in evaluators, for any agent that makes OpenInference spans.

* ``label``: the label the agent gave the query, against the golden's ``label`` (any label
  vocabulary the golden file declares; ``category`` is its deprecated name);
* ``retrieval_hit`` (CODE): an entry the golden names in ``relevant_ids`` is among the documents
  of the RETRIEVER span;
* ``tool_result`` (CODE): the outcome of TOOL spans whose name matches a pattern (ini
  ``evals_tool_spans``, default every TOOL span): ``success`` or ``error``, ``not_called``
  when the agent made no such span;
* ``retrieval_relevance`` (LLM, phoenix-evals): was what the RETRIEVER span found relevant?
* ``answer_grounded``, ``answer_contains``, ``answer_matches``: the answer text (see
  ``answer_evaluators``).
* ``retrieval_overlap`` (CODE): the same question answered by word overlap (``overlap``).
"""

from __future__ import annotations

from collections.abc import Callable

from evals_core import prompts
from evals_core.judges import RETRIEVAL_RELEVANCE, TOOL_RESULT, Verdict, tool_result, verdicts_of
from pytest_supportbot_evals.evaluators._answers import answer_evaluators
from pytest_supportbot_evals.evaluators._overlap import RELEVANCE_LABELS, overlap_evaluator
from pytest_supportbot_evals.evaluators.base import (
    LLM,
    Evaluator,
    Outcome,
    TurnRun,
    first_verdict,
)
from pytest_supportbot_evals.evaluators.ranking import ranking_evaluators

CATEGORY = "label"
#: The label evaluator's deprecated name, still read in thresholds and baselines.
OLD_CATEGORY = "category"
RETRIEVAL_HIT = "retrieval_hit"
#: ``tool_result``'s label when no TOOL span (of ``evals_tool_spans``) was made: a golden may
#: expect it (``tool_result: not_called``: the agent must not call the tool).
NOT_CALLED = "not_called"


def builtin_evaluators(tool_spans: str = "*") -> list[Evaluator]:
    """The built-ins, with TOOL spans selected by the glob ``tool_spans``."""
    named = "" if tool_spans == "*" else f" named {tool_spans!r}"

    def judge_tools(run: TurnRun) -> list[Verdict]:
        return [tool_result(span, run.seed) for span in run.spans_of("TOOL", tool_spans)]

    def judge_relevance(run: TurnRun) -> list[Verdict]:
        judge = run.judges.get(RETRIEVAL_RELEVANCE)
        if judge is None:
            return []
        spans = run.spans_of("RETRIEVER")
        return [v for span in spans for v in verdicts_of(judge(span, run.seed))]

    return [
        Evaluator(
            CATEGORY,
            (),
            _label_outcome,
            description="the label the agent gave the query",
        ),
        Evaluator(
            RETRIEVAL_HIT,
            ("hit", "miss", "not_retrieved"),
            _hit_outcome,
            implied=lambda golden: "hit" if getattr(golden, "relevant_ids", None) else None,
            description="an entry the golden names is among the retrieved documents",
        ),
        Evaluator(
            TOOL_RESULT,
            ("success", "error", NOT_CALLED),
            _tool_outcome(f"no TOOL span{named} in the trace"),
            judge=judge_tools,
            description=f"the outcome of the TOOL spans{named}",
        ),
        Evaluator(
            RETRIEVAL_RELEVANCE,
            RELEVANCE_LABELS,
            first_verdict(RETRIEVAL_RELEVANCE, "no RETRIEVER span in the trace"),
            judge=judge_relevance,
            kind=LLM,
            human_labels=RELEVANCE_LABELS,
            template=prompts.prompt_path("judge_retrieval_relevance"),
            description="LLM judge (phoenix-evals): is the retrieved context relevant?",
        ),
        overlap_evaluator(),
        *ranking_evaluators(),
        *answer_evaluators(tool_spans),
    ]


def _tool_outcome(missing: str) -> Callable[[TurnRun, list[Verdict]], Outcome]:
    first = first_verdict(TOOL_RESULT, missing)

    def outcome(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
        if not any(v.judge == TOOL_RESULT for v in verdicts):
            return Outcome(NOT_CALLED, missing)
        return first(run, verdicts)

    return outcome


def _label_outcome(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
    """The agent's label; when its span says how it labelled (``classification.source`` and
    ``classification.llm_category``, as SupportBot's does), the model's own label, so that a
    fallback or a rule overriding the model does not pass for the model's answer."""
    agent = run.agent_span
    source = agent.get("classification.source")
    if source is None:
        return Outcome(run.label)
    label = agent.get("classification.llm_category") or "fallback"
    return Outcome(label, f"the model said {label}; routed to {run.label} ({source})")


def _hit_outcome(run: TurnRun, verdicts: list[Verdict]) -> Outcome:
    wanted = set(getattr(run.golden, "relevant_ids", None) or ())
    retrievers = run.spans_of("RETRIEVER")
    retrieved = [str(doc["id"]) for span in retrievers for doc in span.documents]
    if not retrievers:
        return Outcome("not_retrieved", "no RETRIEVER span in the trace")
    return Outcome("hit" if wanted & set(retrieved) else "miss", f"retrieved {retrieved}")
