"""Measure the local models for recording: what each can tell, and what it costs.

For every setup (a local model for classification and the judge, optionally another for the
answer steps, optionally other prompts: ``smollm2``, ``smollm2+gemma``,
``smollm2@old-prompts/``), served as it would record (``devservices.llm_router``), the agent
runs over the committed goldens (first turns), sending exactly its own requests:

* classification: the model's own label (before the order-id guardrail) against the golden's
  ``category``: accuracy and Cohen's kappa;
* answers: time per call, completion tokens, replies cut off at ``max_tokens``
  (``finish_reason == "length"``), and the plugin's answer check (``answer_grounded``) against
  what the agent's tool returned or retrieved: grounded / contradicts / unsupported;
  ``--answers N`` prints N of them (every few goldens) to read;
* the relevance judge (phoenix-evals, the project's template and compact schema) on every
  retrieved document, against the golden's ``relevant_ids``: accuracy and kappa.

The lexical judge (``retrieval_overlap``, no model) is measured on the same documents. Run from
the repository root: ``.venv/bin/python scripts/measure_models.py [--answers 12] [--setups ...]
[--no-judge]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devservices.llm_router import ModelRouter
from devservices.llm_server import LOCAL_MODELS, LocalModel
from supportbot.agent import SupportBot, _tool_fields
from supportbot.classification import CATEGORIES, parse_classification
from supportbot.turns import order_id_of

from evals_core.judges import RetrievalRelevanceJudge
from evals_core.llm import build_client
from evals_core.settings import Settings
from pytest_supportbot_evals.evaluators._answer_checks import Evidence, ToolOutput, check
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


@dataclass(frozen=True)
class Setup:
    """``classify[+answer][@prompts]``: the models of the steps and a prompts folder."""

    name: str
    classify: LocalModel
    answer: LocalModel
    prompts: str | None

    @classmethod
    def parse(cls, text: str) -> Setup:
        models, _, prompts = text.partition("@")
        first, _, second = models.partition("+")
        return cls(text, LOCAL_MODELS[first], LOCAL_MODELS[second or first], prompts or None)


@dataclass
class Measured:
    model: str
    calls: dict[str, Calls]
    categories: list[tuple[str, str | None]]
    relevance: list[tuple[str, str | None]]
    answers: list[tuple[str, str, str]]
    #: The answer check's label of each answer that had evidence (tool output or documents).
    checks: list[str] = field(default_factory=list)

    def answer_cell(self) -> str:
        n = len(self.checks)
        count = {label: self.checks.count(label) for label in ("grounded", "contradicts")}
        return f"{count['grounded']}/{n} grounded, {count['contradicts']} contradict"


def evidence(bot: SupportBot, case: GoldenCase, category: str, top_k: int) -> Evidence:
    """What the agent's tool returned or retrieved for the case (as its spans record it)."""
    if category != "order_status":
        hits = bot.store.search_faq(case.query, top_k)
        return Evidence(documents=tuple((hit.id, hit.content) for hit in hits))
    order_id = order_id_of(case.query, ())
    if order_id is None:
        return Evidence()
    order, given = bot.store.lookup_order(order_id), json.dumps({"orderId": order_id})
    if order is None:
        return Evidence((ToolOutput("lookupOrderStatus", {}, given, "not found"),))
    fields = {k: str(v) for k, v in _tool_fields(order).items()}
    return Evidence((ToolOutput("lookupOrderStatus", fields, given),))


def measure(setup: Setup, cases: list[GoldenCase], judge_too: bool = True) -> Measured:
    calls: dict[str, Calls] = defaultdict(Calls)
    categories, relevance, answers, checks = [], [], [], []
    if setup.prompts:
        os.environ["SUPPORTBOT_PROMPTS_DIR"] = setup.prompts
    else:
        os.environ.pop("SUPPORTBOT_PROMPTS_DIR", None)
    with ModelRouter((setup.classify, setup.answer)) as server:
        settings = Settings(
            base_url=server.base_url,
            model=setup.classify.name,
            answer_model=setup.answer.name,
            **BUDGETS,  # type: ignore[arg-type]
        )
        agent_client = Recorder(build_client(settings), calls)
        bot = SupportBot(settings, client=agent_client)  # type: ignore[arg-type]
        judge = RetrievalRelevanceJudge(settings)
        adapter = judge._llm._sync_adapter  # measured where phoenix-evals sends its request
        adapter.client = Recorder(adapter.client, calls, step="judge")
        for case in cases:
            result = bot.handle(case.query)
            own = parse_classification(calls["classify"].replies[-1]).llm_category
            categories.append((case.category or "", own))
            answers.append((case.id, case.query, result.response))
            found = check(case.query, result.response, evidence(bot, case, result.category, 2))
            if found is not None:
                checks.append(found[0])
            if case.relevant_ids is None or not judge_too:
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
    return Measured(setup.name, calls, categories, relevance, answers, checks)


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
    parser.add_argument(
        "--setups",
        nargs="+",
        default=["smollm2", "gemma", "smollm2+gemma"],
        help="classify[+answer][@prompts-dir], models among " + ", ".join(LOCAL_MODELS),
    )
    parser.add_argument("--answers", type=int, default=0, help="print N answers of each setup")
    parser.add_argument("--no-judge", action="store_true", help="skip the relevance judge")
    args = parser.parse_args()
    cases = load_goldens(sorted(GOLDENS.glob("*.yaml")))
    rows = [measure(Setup.parse(s), cases, not args.no_judge) for s in args.setups]
    print(f"{len(cases)} goldens; budgets {BUDGETS}")
    print(
        "| setup | classification | answer check | relevance judge | classify call | "
        "answer call | judge call |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in rows:
        print(
            f"| {m.model} | {agreement(m.categories, CATEGORIES)} | {m.answer_cell()} | "
            f"{agreement(m.relevance, RELEVANCE)} | {m.calls['classify'].cell()} | "
            f"{m.calls['answer'].cell()} | {m.calls['judge'].cell()} |"
        )
    overlap = agreement(lexical(cases), RELEVANCE)
    print(f"| retrieval_overlap (code, no model) | - | - | {overlap} |")
    step = max(1, len(cases) // max(1, args.answers))
    for m in rows:
        for golden, query, answer in m.answers[::step][: args.answers]:
            print(f"\n[{m.model}] {golden}: {query}\n  -> {answer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
