"""Command-line options and ini keys of pytest-supportbot-evals.

Kept apart from the hooks, and free of imports beyond pytest, so that registering them costs a
project that never uses the plugin nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

# (name, help, default) of the ini keys; literal here so that registering them imports nothing.
INI_KEYS: tuple[tuple[str, str, str], ...] = (
    ("supportbot_goldens", "Golden YAML files or folders (relative to rootdir).", "tests/goldens"),
    ("supportbot_cassettes", "Folder of one cassette per golden case.", "cassettes"),
    ("supportbot_model", "Model name the cassettes were recorded with.", ""),
    (
        "supportbot_answer_model",
        "Model of the agent's answer steps (default: evals_model; --evals-model overrides both).",
        "",
    ),
    ("supportbot_judge_model", "Judge model name (default: the agent's model).", ""),
    ("supportbot_judge_method", "Judge structured-output path: auto or tool_calling.", "auto"),
    ("supportbot_max_tokens", "max_tokens of the answer steps (free text).", ""),
    ("supportbot_classify_max_tokens", "max_tokens of the classification step (JSON).", ""),
    ("supportbot_judge_max_tokens", "max_tokens of the relevance judge (JSON).", ""),
    (
        "supportbot_classify_top_logprobs",
        "top_logprobs asked of the classification step (its confidence); 0 or empty: none.",
        "",
    ),
    ("supportbot_phoenix_project", "Phoenix project for the eval runs' traces.", ""),
    (
        "supportbot_golden_timeout",
        "Seconds one golden may take before it is stopped and fails (0: no limit).",
        "600",
    ),
    (
        "supportbot_spool",
        "Spool of Phoenix deliveries not yet accepted.",
        ".supportbot/phoenix-spool.jsonl",
    ),
    ("supportbot_baseline", "Committed baseline JSON to compare each run with.", ""),
    ("supportbot_min_judge_kappa", "Cohen's kappa below which a judge is untrusted.", "0.4"),
    (
        "supportbot_min_judge_accuracy",
        "Accuracy a judge needs when kappa is undefined (human labels of one class only).",
        "0.8",
    ),
    (
        "supportbot_judge_gating",
        "advisory (default): an untrusted judge's rows do not decide the gate; strict: they do.",
        "advisory",
    ),
    ("supportbot_experiment", "Phoenix dataset to log each run to as an experiment.", ""),
    # The agent under the gate (see README, "Gate your own agent"); SupportBot when unset.
    ("supportbot_agent", "module:factory of the agent (factory(tracer_provider=...)).", ""),
    ("supportbot_labels", "The labels the agent gives (category); space-separated.", ""),
    ("supportbot_prompts", "Folder of the agent's prompt files (fingerprinted).", ""),
    ("supportbot_tool_spans", "Glob of the TOOL span names tool_result judges.", "*"),
    (
        "supportbot_max_token_growth",
        "Fail when a suite's agent tokens grow by more than this fraction over the baseline "
        "(0.25: +25%; empty: never).",
        "0.25",
    ),
    (
        "supportbot_max_completion_growth",
        "Fail when an agent step's completion tokens grow by more than this fraction over the "
        "baseline (0.2: +20%; empty: never).",
        "0.2",
    ),
)
#: Every ini key and flag also has a neutral name: ``evals_goldens`` for ``supportbot_goldens``,
#: ``--evals-threshold`` for ``--supportbot-threshold``. The neutral name wins when both are set.
PREFIX, NEUTRAL = "supportbot_", "evals_"


def neutral(name: str) -> str:
    """``supportbot_goldens`` -> ``evals_goldens``; ``--supportbot-x`` -> ``--evals-x``."""
    if name.startswith("--"):
        return name.replace("--supportbot-", "--evals-", 1)
    return NEUTRAL + name.removeprefix(PREFIX)


def ini_value(getini: Any, name: str) -> Any:
    """An ini value by its ``supportbot_`` name: the neutral ``evals_`` key if set, else it."""
    return getini(neutral(name)) or getini(name)


def add_options(parser: pytest.Parser) -> None:
    """Register the plugin's command-line options and ini keys (imports nothing heavy)."""
    group = parser.getgroup(
        "supportbot-evals", "LLM eval regression gate (pytest-supportbot-evals)"
    )

    def add(flag: str, **kwargs: Any) -> None:  # every flag under its name and neutral alias
        group.addoption(flag, neutral(flag), **kwargs)

    mode_help = (
        "Cassette record mode: none (default; replay only, a miss fails), once, new_episodes, "
        "all, rewrite (drop what is not re-recorded)."
    )
    # No ``--record-mode`` alias: pytest-recording owns that flag, and two plugins registering
    # one option string stop pytest from starting (argparse refuses it across option groups).
    add("--supportbot-record-mode", dest="supportbot_record_mode", default=None, help=mode_help)
    add(
        "--supportbot-threshold",
        action="append",
        dest="supportbot_threshold",
        metavar="NAME=VALUE",
        help="Pass-rate threshold for an evaluator (repeatable).",
    )
    add(
        "--supportbot-report",
        dest="supportbot_report",
        metavar="PATH",
        help="Write the JSON report (per-case verdicts, rates, gate) to PATH.",
    )
    add(
        "--supportbot-phoenix",
        dest="supportbot_phoenix",
        metavar="URL",
        help="Phoenix to send spans and verdicts to (default: PHOENIX_COLLECTOR_ENDPOINT).",
    )
    add(
        "--supportbot-goldens",
        dest="supportbot_goldens",
        metavar="PATHS",
        help="Comma-separated golden files or folders (overrides ini supportbot_goldens).",
    )
    add(
        "--supportbot-model",
        dest="supportbot_model",
        metavar="NAME",
        help="Model for every agent step and the judge (overrides ini evals_model and "
        "evals_answer_model).",
    )
    add(
        "--supportbot-strict",
        action="store_true",
        dest="supportbot_strict",
        help="A golden whose expectations miss fails, instead of xfail under the gate.",
    )
    for flag, help_text, extra in (
        ("--supportbot-baseline", "Compare with this baseline JSON (default: ini).", {}),
        (
            "--supportbot-update-baseline",
            "Write this run as the new baseline.",
            {"action": "store_true"},
        ),
        (
            "--supportbot-repeat",
            "Run each golden N times (own seed and cassette each).",
            {"type": int, "metavar": "N"},
        ),
        (
            "--supportbot-shard",
            "Run shard I of N; merge reports with supportbot-evals merge.",
            {"metavar": "I/N"},
        ),
        (
            "--supportbot-only",
            "Run only these golden ids (comma-separated; id@N for one repetition; * for every "
            "golden), deselecting every other test.",
            {"metavar": "IDS"},
        ),
        (
            "--supportbot-experiment",
            "Log this run to Phoenix as an experiment on dataset NAME (pushed first).",
            {"metavar": "NAME"},
        ),
        (
            "--supportbot-strict-judges",
            "Gate on an untrusted judge's rows too (default: advisory; "
            "ini supportbot_judge_gating).",
            {"action": "store_true"},
        ),
        (
            "--supportbot-markdown",
            "Write the summary as a Markdown table to PATH.",
            {"metavar": "PATH"},
        ),
    ):
        dest = flag.removeprefix("--").replace("-", "_")
        add(flag, dest=dest, help=help_text, **extra)  # type: ignore[arg-type]
    for name, help_text, default in INI_KEYS:
        parser.addini(name, help_text, default=default)
        parser.addini(neutral(name), f"{help_text} (neutral name of {name})", default="")
    for name in ("supportbot_thresholds", neutral("supportbot_thresholds")):
        parser.addini(name, "NAME=VALUE pass-rate thresholds.", type="linelist")
    for name in ("supportbot_prices", neutral("supportbot_prices")):
        parser.addini(name, "MODEL=INPUT,OUTPUT: USD per million tokens.", type="linelist")
