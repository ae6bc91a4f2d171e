"""Measure the local models for recording: what each can tell, and what it costs.

For every local model (``devservices.llm_server.LOCAL_MODELS``), served as it would record, the
agent runs over the committed goldens (first turns), sending exactly its own requests:

* classification: the model's own label (before the order-id guardrail) against the golden's
  ``category``: accuracy and Cohen's kappa;
* answers: time per call, completion tokens, replies cut off at ``max_tokens``
  (``finish_reason == "length"``); ``--answers N`` prints N of them to read;
* the relevance judge (phoenix-evals, the project's template and compact schema) on every
  retrieved document, against the golden's ``relevant_ids``: accuracy and kappa.

The lexical judge (``retrieval_overlap``, no model) is measured on the same documents. Run from
the repository root: ``.venv/bin/python scripts/measure_models.py [--answers 12] [--models ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devservices.llm_server import LOCAL_MODELS, LlmServer, LocalModel
from supportbot.agent import SupportBot
from supportbot.classification import CATEGORIES, parse_classification

from evals_core.judges import RetrievalRelevanceJudge
from evals_core.llm import build_client
from evals_core.settings import Settings
from pytest_supportbot_evals.evaluators._overlap import overlap_label
from pytest_supportbot_evals.evaluators.calibration import calibrate
from pytest_supportbot_evals.run.goldens import GoldenCase, load_goldens

GOLDENS = Path("tests/goldens")
RELEVANCE = ("relevant", "irrelevant")
#: The budgets of the committed recordings (pyproject.toml's ini).
BUDGETS = {"max_tokens": 96, "classify_max_tokens": 160, "judge_max_tokens": 160}


@dataclass
class Calls:
    """Every chat completion of one step: seconds, completion tokens, cut off or not."""

    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    cut: int = 0
    replies: list[str] = field(default_factory=list)

    def cell(self) -> str:
        if not self.seconds:
            return "-"
        return (
            f"{statistics.mean(self.seconds):.2f}s {statistics.mean(self.tokens):.0f}"
            f"/{max(self.tokens)} tok, {self.cut} cut"
        )


class Recorder:
    """An OpenAI client's ``chat.completions`` that times and counts each call by step."""

    def __init__(self, client: Any, calls: dict[str, Calls], step: str | None = None) -> None:
        self._client, self._calls, self.step = client, calls, step
        self.chat, self.completions = self, self

    def create(self, **kwargs: Any) -> Any:
        start = time.perf_counter()
        reply = self._client.chat.completions.create(**kwargs)
        step = self.step or ("classify" if "response_format" in kwargs else "answer")
        calls = self._calls[step]
        calls.seconds.append(time.perf_counter() - start)
        calls.tokens.append(reply.usage.completion_tokens if reply.usage else 0)
        calls.cut += reply.choices[0].finish_reason == "length"
        calls.replies.append(reply.choices[0].message.content or "")
        return reply


@dataclass
class Measured:
    model: str
    calls: dict[str, Calls]
    categories: list[tuple[str, str | None]]
    relevance: list[tuple[str, str | None]]
    answers: list[tuple[str, str]]


def measure(model: LocalModel, cases: list[GoldenCase]) -> Measured:
    calls: dict[str, Calls] = defaultdict(Calls)
    categories, relevance, answers = [], [], []
    with LlmServer(local_model=model) as server:
        settings = Settings(base_url=server.base_url, model=model.name, **BUDGETS)  # type: ignore[arg-type]
        agent_client = Recorder(build_client(settings), calls)
        bot = SupportBot(settings, client=agent_client)  # type: ignore[arg-type]
        judge = RetrievalRelevanceJudge(settings)
        adapter = judge._llm._sync_adapter  # measured where phoenix-evals sends its request
        adapter.client = Recorder(adapter.client, calls, step="judge")
        for case in cases:
            result = bot.handle(case.query)
            own = parse_classification(calls["classify"].replies[-1]).llm_category
            categories.append((case.category or "", own))
            answers.append((case.query, result.response))
            if case.relevant_ids is None:
                continue
            for hit in bot.store.search_faq(case.query, settings.top_k):
                truth = "relevant" if hit.id in case.relevant_ids else "irrelevant"
                context = f"Query: {case.query}\n\nRetrieved Context:\n{hit.content}"
                try:
                    label = judge._evaluator(settings.seed).evaluate({"input": context})[0].label
                except Exception:  # a failed judgement is a missing verdict, as in the plugin
                    label = None
                relevance.append((truth, label))
        bot.shutdown()
    return Measured(model.name, calls, categories, relevance, answers)


def lexical(cases: list[GoldenCase]) -> list[tuple[str, str | None]]:
    """The lexical judge's verdicts on the documents the agent retrieves (no model)."""
    from supportbot.store import Store

    store, pairs = Store(), []
    for case in cases:
        if case.relevant_ids is None:
            continue
        for hit in store.search_faq(case.query, Settings().top_k):
            truth = "relevant" if hit.id in case.relevant_ids else "irrelevant"
            pairs.append((truth, overlap_label(case.query, hit.content)))
    return pairs


def agreement(pairs: list[tuple[str, str | None]], labels: tuple[str, ...]) -> str:
    result = calibrate(pairs, "measured", labels)
    kappa = "-" if result.kappa is None else f"{result.kappa:.2f}"
    return f"acc {result.accuracy or 0:.2f} kappa {kappa} (n={result.n})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(LOCAL_MODELS), choices=LOCAL_MODELS)
    parser.add_argument("--answers", type=int, default=0, help="print N answers of each model")
    args = parser.parse_args()
    cases = load_goldens(sorted(GOLDENS.glob("*.yaml")))
    rows = [measure(LOCAL_MODELS[name], cases) for name in args.models]
    print(f"{len(cases)} goldens; budgets {BUDGETS}")
    print("| model | classification | relevance judge | classify call | answer call | judge call |")
    print("|---|---|---|---|---|---|")
    for m in rows:
        print(
            f"| {m.model} | {agreement(m.categories, CATEGORIES)} | "
            f"{agreement(m.relevance, RELEVANCE)} | {m.calls['classify'].cell()} | "
            f"{m.calls['answer'].cell()} | {m.calls['judge'].cell()} |"
        )
    print(f"| retrieval_overlap (code, no model) | - | {agreement(lexical(cases), RELEVANCE)} | |")
    for m in rows:
        for query, answer in m.answers[: args.answers]:
            print(f"\n[{m.model}] {query}\n  -> {answer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
