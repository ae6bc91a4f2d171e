"""The two judges of the tutorial, applied to a SupportBot trace's child spans.

* ``tool_result`` (CODE) on ``lookupOrderStatus`` TOOL spans: ``success`` 1 / ``error`` 0.
* ``retrieval_relevance`` (LLM, phoenix-evals ``ClassificationEvaluator``) on RETRIEVER spans:
  ``relevant`` 1 / ``irrelevant`` 0.

A judge never raises: a judge that failed (server error, reply cut off mid-JSON, a label outside
the choices) gives a ``Verdict`` with ``error`` set and no label, so one bad reply costs one
verdict, not the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from openinference.semconv.trace import SpanAttributes

from evals_core import prompts
from evals_core.llm import AnsweringModel, client_kwargs, compact
from evals_core.settings import Settings
from evals_core.spans import SpanView

TOOL_RESULT = "tool_result"
RETRIEVAL_RELEVANCE = "retrieval_relevance"
JUDGE_NAMES = (TOOL_RESULT, RETRIEVAL_RELEVANCE)
#: How phoenix-evals is asked for structured output. ``auto``: JSON-schema response format,
#: falling back to tool calling when the server answers 400 (OpenAI, llama.cpp's own server).
#: ``tool_calling``: a forced function call (servers that reject ``json_schema`` with a 500,
#: such as llama-cpp-python's). Both are phoenix-evals' own code paths.
JUDGE_METHODS = ("auto", "tool_calling")
JUDGE_REQUESTS_PER_SECOND = 100.0
RELEVANCE_CHOICES = {
    "relevant": (1.0, "The context contains information that directly helps answer the query."),
    "irrelevant": (0.0, "The context does not contain useful information for the query."),
}
#: The judge replies with its label only (phoenix-evals' schema then holds just ``label``): no
#: free text that its token budget could cut off before the label.
INCLUDE_EXPLANATION = False


@dataclass(frozen=True)
class Verdict:
    """A judge's verdict on one span; ``label`` is None when the judge itself failed."""

    judge: str
    span_id: str
    trace_id: str
    label: str | None
    score: float | None
    explanation: str
    annotator_kind: str
    model: str | None = None
    error: str | None = None
    #: Set on a verdict about one retrieved document (its 0-based position in the retrieval);
    #: ``None`` for a verdict about the whole span.
    document_position: int | None = None
    #: The id of that document (``document.id`` of the span), when it has one.
    document_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: A judge takes a span and, optionally, a seed for its LLM call (repetitions); it gives a
#: verdict, or several (the span's first, then its documents').
Judge = Callable[..., Any]


def tool_result(span: SpanView, seed: int | None = None) -> Verdict:
    """CODE judge: did the order lookup return an order, or an error?"""
    output = str(span.get(SpanAttributes.OUTPUT_VALUE, ""))
    failed = (
        span.status_code == "ERROR" or "error" in output.lower() or "not found" in output.lower()
    )
    if failed:
        try:
            detail = json.loads(output).get("error", output)
        except (json.JSONDecodeError, AttributeError):
            detail = output
        label, score, explanation = "error", 0.0, f"The tool reported an error: {detail}"[:500]
    else:
        label, score, explanation = "success", 1.0, "The tool returned a result, not an error."
    return Verdict(TOOL_RESULT, span.span_id, span.trace_id, label, score, explanation, "CODE")


class ClassificationJudge:
    """An LLM judge from a classification template (phoenix-evals ``ClassificationEvaluator``):
    the template's ``{placeholders}`` are filled from a span, the reply is one of ``choices``."""

    def __init__(
        self,
        name: str,
        template: str,
        choices: Mapping[str, tuple[float | None, str]],
        settings: Settings,
        method: str = "auto",
    ) -> None:
        if method not in JUDGE_METHODS:
            raise ValueError(f"Unknown judge method {method!r}; use one of {JUDGE_METHODS}.")
        self.name, self.template = name, template
        self.model = settings.effective_judge_model
        self.method = method
        self.prompt_hash = prompts.digest(template)
        #: The model that really answered the last judgement (from the reply; see ``judge``).
        self.answering = AnsweringModel()
        llm = _compact_llm_class()(
            provider="openai",
            model=self.model,
            client="openai",
            # phoenix-evals starts its adaptive rate limiter slow and sleeps between calls (most
            # of a replay's time); it still backs off on the provider's 429s.
            initial_per_second_request_rate=JUDGE_REQUESTS_PER_SECOND,
            # phoenix-evals sets max_retries itself (its rate limiter retries).
            **{k: v for k, v in client_kwargs(settings).items() if k != "max_retries"},
            # the judge calls are synchronous: only the sync client reports its replies
            sync_client_kwargs={"http_client": self.answering.http_client()},
        )
        self._llm, self._settings = llm, settings
        self._choices: Any = (
            dict(choices)
            if method == "tool_calling"
            else {label: score for label, (score, _) in choices.items()}
        )
        self._evaluators: dict[int, Any] = {}

    def _evaluator(self, seed: int) -> Any:
        """One phoenix-evals evaluator per seed (repetitions sample the judge with new seeds)."""
        if seed not in self._evaluators:
            from phoenix.evals import ClassificationEvaluator

            self._evaluators[seed] = ClassificationEvaluator(
                name=self.name,
                llm=self._llm,
                prompt_template=self.template,
                choices=self._choices,
                temperature=self._settings.temperature,
                seed=seed,
                max_tokens=self._settings.judge_max_tokens,
                include_explanation=INCLUDE_EXPLANATION,
            )
        return self._evaluators[seed]

    def judge(self, span: SpanView, variables: Mapping[str, str], seed: int | None) -> Verdict:
        """The verdict on ``span``, from the template filled with ``variables``. Its ``model``
        is the one the reply says answered (a local server answers whatever name it is sent);
        the configured one only when no reply came."""
        from openinference.instrumentation import suppress_tracing

        self.answering.reset()
        try:
            seed = self._settings.seed if seed is None else seed
            # A judge's LLM call makes no span (spans go to the provider of an agent handling a
            # query, see ``tracing``): skip the OpenAI instrumentation's work for it.
            with suppress_tracing():
                score = self._evaluator(seed).evaluate(dict(variables))[0]
        except Exception as exc:  # one failed judgement must not end the run
            return Verdict(
                self.name, span.span_id, span.trace_id, None, None, "", "LLM",
                self.answering.last or self.model, error=_short_error(exc),
            )  # fmt: skip
        return Verdict(
            self.name,
            span.span_id,
            span.trace_id,
            score.label,
            float(score.score) if score.score is not None else None,
            score.explanation or "",
            "LLM",
            self.answering.last or self.model,
        )


class RetrievalRelevanceJudge(ClassificationJudge):
    """LLM judge: is each retrieved document relevant to the query? (phoenix-evals)

    One judge call per document (its verdict carries the document's position); the span's
    verdict derives from them: ``relevant`` when any document is, ``irrelevant`` when none is,
    and ``irrelevant`` by rule, without an LLM call, when nothing was retrieved.
    """

    def __init__(self, settings: Settings, method: str = "auto") -> None:
        template = prompts.load("judge_retrieval_relevance")
        super().__init__(RETRIEVAL_RELEVANCE, template, RELEVANCE_CHOICES, settings, method)

    def __call__(self, span: SpanView, seed: int | None = None) -> list[Verdict]:
        """The span's verdict, then one verdict per document, in rank order."""
        query = span.get("input.value", "")
        documents = []
        for position, doc in enumerate(span.documents):
            context = f"Query: {query}\n\nRetrieved Context:\n{doc['content']}"
            verdict = self.judge(span, {"input": context}, seed)
            document_id = None if doc.get("id") is None else str(doc["id"])
            documents.append(replace(verdict, document_position=position, document_id=document_id))
        model = next((d.model for d in documents if d.model), self.model)
        return [span_verdict(span, documents, model), *documents]


def span_verdict(
    span: SpanView,
    documents: list[Verdict],
    model: str | None,
    judge: str = RETRIEVAL_RELEVANCE,
    kind: str = "LLM",
) -> Verdict:
    """The verdict on a retrieval from its documents' verdicts (see ``RetrievalRelevanceJudge``;
    ``judge`` and ``kind`` name another judge of documents, such as a code one)."""
    ids = (span.span_id, span.trace_id)
    if not documents:
        how = " (no LLM call)" if kind == "LLM" else ""
        why = f"Nothing was retrieved: irrelevant by rule{how}."
        return Verdict(judge, *ids, "irrelevant", 0.0, why, "CODE", None)
    failed = next((d for d in documents if d.error or d.label is None), None)
    if failed is not None:
        error = f"document {failed.document_position}: {failed.error or 'no label'}"[:300]
        return Verdict(judge, *ids, None, None, "", kind, model, error=error)
    relevant = [d.document_position for d in documents if d.label == "relevant"]
    label = "relevant" if relevant else "irrelevant"
    why = f"{len(relevant)} of {len(documents)} retrieved documents judged relevant" + (
        f" (positions {relevant})" if relevant else ""
    )
    return Verdict(judge, *ids, label, RELEVANCE_CHOICES[label][0], why, kind, model)


def verdicts_of(given: Verdict | list[Verdict]) -> list[Verdict]:
    """A judge's verdicts: one, or several (the relevance judge: the span's, then its
    documents')."""
    return [given] if isinstance(given, Verdict) else list(given)


def _compact_llm_class() -> Any:
    """phoenix-evals' ``LLM``, asking for a label-only classification with a compact schema
    (``classification.compact``: the label costs a few tokens, not a page of whitespace).
    Labels with descriptions (the tool-calling method) keep phoenix-evals' schema."""
    from phoenix.evals import LLM
    from phoenix.evals.llm.wrapper import generate_classification_schema

    class CompactLLM(LLM):  # type: ignore[misc]
        def generate_classification(
            self,
            prompt: Any,
            labels: list[str] | dict[str, str],
            include_explanation: bool = True,
            description: str | None = None,
            **kwargs: Any,
        ) -> dict[str, Any]:
            schema = generate_classification_schema(labels, include_explanation, description)
            if isinstance(labels, list):
                schema = compact(schema)
            return dict(self.generate_object(prompt, schema, **kwargs))

    return CompactLLM


def _short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
