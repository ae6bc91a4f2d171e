"""The category evaluator measures the model's own label; fallbacks and guardrail overrides are
counted and shown as rates (summary and JSON report)."""

from __future__ import annotations

from evals_core.spans import SpanView
from pytest_supportbot_evals.evaluators import classification_rates
from pytest_supportbot_evals.evaluators.base import TurnRun
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.run.goldens import GoldenTurn
from pytest_supportbot_evals.run.results import CaseResult


def agent(source: str | None, llm: str = "", fallback: bool = False) -> SpanView:
    attributes = {}
    if source is not None:
        attributes = {
            "classification.source": source,
            "classification.llm_category": llm,
            "classification.fallback": fallback,
        }
    return SpanView("s", "t", "support-agent", "AGENT", "OK", None, attributes)


def category(span: SpanView, routed: str, expected: str):
    turn = GoldenTurn("q", {"label": expected})
    run = TurnRun("q", "answer", routed, [span], golden=turn)
    (check,) = reference_registry().checks(run, turn.expect, [])
    return check


def test_the_category_check_reads_the_models_own_label():
    assert category(agent("llm", "faq"), "faq", "faq").passed
    # the guardrail routed it right, but the model said faq: a miss
    check = category(agent("order_id_rule", "faq"), "order_status", "order_status")
    assert (check.actual, check.passed) == ("faq", False)
    assert "routed to order_status (order_id_rule)" in check.detail
    # an unusable reply took the faq fallback: never a pass, even where faq was expected
    check = category(agent("fallback", "", True), "faq", "faq")
    assert (check.actual, check.passed) == ("fallback", False)
    # an agent whose span says nothing is checked on its route
    assert category(agent(None), "faq", "faq").passed


def result(source: str, fallback: bool = False, suite: str = "evals") -> CaseResult:
    r = CaseResult("c", "q", suite=suite)
    r.classification = {"llm_category": "", "fallback": fallback, "source": source}
    return r


def test_rates_count_the_model_the_fallback_and_the_guardrail():
    results = [
        result("llm"),
        result("llm"),
        result("order_id_rule"),
        result("order_id_rule", fallback=True),
        result("fallback", fallback=True),
        result("llm", suite="conversations"),
    ]
    errored = result("llm")
    errored.error = "boom"
    rates = classification_rates.rates([*results, errored, CaseResult("x", "q")])
    assert rates["evals"] == {
        "total": 5,
        "llm": 3,
        "fallback": 2,
        "overridden": 2,
        "llm_rate": 0.6,
        "fallback_rate": 0.4,
        "overridden_rate": 0.4,
    }
    assert classification_rates.summary_lines(results) == [
        "conversations classification: llm 1/1, fallback 0/1, guardrail overrides 0/1",
        "classification: llm 3/5, fallback 2/5, guardrail overrides 2/5",
    ]
