"""ShopBot's own evaluators, registered with the evals plugin' hook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_supportbot_evals import Evaluator, TurnRun, code_evaluator, llm_evaluator

SERIAL = re.compile(r"\bSN-\d{6}\b", re.IGNORECASE)


def mentions_serial(run: TurnRun) -> tuple[str, str]:
    """The answer names the serial number the customer asked about."""
    asked = SERIAL.search(run.query)
    if asked is None:
        return "no_serial", "the query gives no serial number"
    said = asked.group(0).upper() in (run.answer or "").upper()
    return ("yes" if said else "no"), f"looked for {asked.group(0).upper()} in the answer"


def pytest_evals_evaluators(config: pytest.Config) -> list[Evaluator]:
    judges = Path(__file__).parent / "judges"
    return [
        code_evaluator("mentions_serial", ("yes", "no", "no_serial"), mentions_serial),
        llm_evaluator(
            "answer_on_topic",
            judges / "answer_on_topic.txt",
            {"on_topic": 1.0, "off_topic": 0.0},
            span_kind="AGENT",
        ),
    ]
