"""Command-line options and ini keys of the evals plugin (pytest-supportbot-evals).

Kept apart from the hooks, and free of imports beyond pytest, so that registering them costs a
project that never uses the plugin nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

# (name, help, default) of the ini keys; literal here so that registering them imports nothing.
INI_KEYS: tuple[tuple[str, str, str], ...] = (
    ("evals_goldens", "Golden YAML files or folders (relative to rootdir).", "tests/goldens"),
    ("evals_cassettes", "Folder of one cassette per golden case.", "cassettes"),
    ("evals_model", "Model name the cassettes were recorded with.", ""),
    (
        "evals_answer_model",
        "Model of the agent's answer steps (default: evals_model; --evals-model overrides both).",
        "",
    ),
    ("evals_judge_model", "Judge model name (default: the agent's model).", ""),
    ("evals_judge_method", "Judge structured-output path: auto or tool_calling.", "auto"),
    ("evals_max_tokens", "max_tokens of the answer steps (free text).", ""),
    ("evals_classify_max_tokens", "max_tokens of the classification step (JSON).", ""),
    ("evals_judge_max_tokens", "max_tokens of the relevance judge (JSON).", ""),
    (
        "evals_classify_top_logprobs",
        "top_logprobs asked of the classification step (its confidence); 0 or empty: none.",
        "",
    ),
    ("evals_phoenix_project", "Phoenix project for the eval runs' traces.", ""),
    (
        "evals_golden_timeout",
        "Seconds one golden may take before it is stopped and fails (0: no limit).",
        "600",
    ),
    (
        "evals_spool",
        "Spool of Phoenix deliveries not yet accepted.",
        ".evals/phoenix-spool.jsonl",
    ),
    ("evals_baseline", "Committed baseline JSON to compare each run with.", ""),
    ("evals_min_judge_kappa", "Cohen's kappa below which a judge is untrusted.", "0.4"),
    (
        "evals_min_judge_accuracy",
        "Accuracy a judge needs when kappa is undefined (human labels of one class only).",
        "0.8",
    ),
    (
        "evals_judge_gating",
        "advisory (default): an untrusted judge's rows do not decide the gate; strict: they do.",
        "advisory",
    ),
    ("evals_experiment", "Phoenix dataset to log each run to as an experiment.", ""),
    # The agent under the gate (see README, "Gate your own agent"); SupportBot when unset.
    ("evals_agent", "module:factory of the agent (factory(tracer_provider=...)).", ""),
    ("evals_labels", "The agent's labels (the label evaluator): words, or a TOML list.", ""),
    ("evals_prompts", "Folder of the agent's prompt files (fingerprinted).", ""),
    ("evals_tool_spans", "Glob of the TOOL span names tool_result judges.", "*"),
    (
        "evals_max_token_growth",
        "Fail when a suite's agent tokens grow by more than this fraction over the baseline "
        "(0.25: +25%; empty: never).",
        "0.25",
    ),
    (
        "evals_max_completion_growth",
        "Fail when an agent step's completion tokens grow by more than this fraction over the "
        "baseline (0.2: +20%; empty: never).",
        "0.2",
    ),
)
#: Old spellings (``supportbot_x``, ``--supportbot-x``, ``SUPPORTBOT_X``) are deprecated
#: aliases of the neutral names (``evals_x``, ``--evals-x``, ``EVALS_X``); ``names`` resolves them.
PREFIX, NEUTRAL = "supportbot_", "evals_"
#: Ini keys that list one entry per line.
LINELIST_KEYS = ("evals_thresholds", "evals_prices")
#: Ini keys pytest reads as words, or as a TOML list as given (no deprecation warning).
ARGS_KEYS = ("evals_labels",)
DEFAULTS = {name: default for name, _, default in INI_KEYS}


INI_NAMES = {*DEFAULTS, *LINELIST_KEYS}


def neutral(name: str) -> str:
    """``supportbot_goldens`` -> ``evals_goldens``; ``--supportbot-x`` -> ``--evals-x``."""
    if name.startswith("--"):
        return name.replace("--supportbot-", "--evals-", 1)
    return NEUTRAL + name.removeprefix(PREFIX).removeprefix(NEUTRAL)


def old(name: str) -> str:
    """The deprecated spelling of a neutral name (``evals_x`` -> ``supportbot_x``)."""
    if name.startswith("--"):
        return name.replace("--evals-", "--supportbot-", 1)
    return PREFIX + name.removeprefix(NEUTRAL).removeprefix(PREFIX)


def given(value: Any) -> bool:
    return value not in (None, "", [], False)


def ini_value(getini: Any, name: str) -> Any:
    """An ini value by either name: the neutral key if set, else its deprecated alias, else the
    default (``reconcile`` has already refused the two set to different values)."""
    key = neutral(name)
    value, legacy = getini(key), getini(old(key))
    unset = [] if key in LINELIST_KEYS or key in ARGS_KEYS else DEFAULTS.get(key, "")
    return legacy if given(legacy) and value == unset else value


def add_options(parser: pytest.Parser) -> None:
    """Register the plugin's command-line options and ini keys (imports nothing heavy): each
    under its neutral name, and its deprecated ``supportbot`` spelling under its own ``dest``
    (``names.check`` reconciles the two and warns)."""
    group = parser.getgroup("evals", "LLM eval regression gate (evals)")

    def add(flag: str, **kwargs: Any) -> None:
        dest = flag.removeprefix("--").replace("-", "_")
        group.addoption(flag, dest=dest, **kwargs)
        legacy = {k: v for k, v in kwargs.items() if k not in ("help", "default")}
        group.addoption(  # the deprecated spelling works, unlisted in --help
            old(flag), dest=old(dest), help=argparse.SUPPRESS, **legacy
        )

    for flag, help_text, extra in FLAGS:
        add(flag, help=help_text, **extra)
    for name, help_text, default in INI_KEYS:
        kind = "args" if name in ARGS_KEYS else None
        unset: Any = [] if kind else ""
        parser.addini(name, help_text, type=kind, default=unset if kind else default)
        parser.addini(old(name), f"Deprecated alias of {name}.", type=kind, default=unset)
    for name, help_text in (
        ("evals_thresholds", "NAME=VALUE pass-rate thresholds."),
        ("evals_prices", "MODEL=INPUT,OUTPUT: USD per million tokens."),
    ):
        parser.addini(name, help_text, type="linelist")
        parser.addini(old(name), f"Deprecated alias of {name}.", type="linelist")


#: (flag, help, argparse keywords) of the command-line options, under their neutral names.
FLAGS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        # No ``--record-mode`` alias: pytest-recording owns that flag.
        "--evals-record-mode",
        "Cassette record mode: none (default; replay only, a miss fails), once, new_episodes, "
        "all, rewrite (drop what is not re-recorded).",
        {},
    ),
    (
        "--evals-threshold",
        "Pass-rate threshold for an evaluator (repeatable).",
        {"action": "append", "metavar": "NAME=VALUE"},
    ),
    (
        "--evals-report",
        "Write the JSON report (per-case verdicts, rates, gate) to PATH.",
        {"metavar": "PATH"},
    ),
    (
        "--evals-phoenix",
        "Phoenix to send spans and verdicts to (default: PHOENIX_COLLECTOR_ENDPOINT).",
        {"metavar": "URL"},
    ),
    (
        "--evals-goldens",
        "Comma-separated golden files or folders (overrides ini evals_goldens).",
        {"metavar": "PATHS"},
    ),
    (
        "--evals-model",
        "Model for every agent step and the judge (overrides ini evals_model and "
        "evals_answer_model).",
        {"metavar": "NAME"},
    ),
    (
        "--evals-strict",
        "A golden whose expectations miss fails its test (default: MISSED, counted by the gate).",
        {"action": "store_true"},
    ),
    ("--evals-baseline", "Compare with this baseline JSON (default: ini).", {}),
    ("--evals-update-baseline", "Write this run as the new baseline.", {"action": "store_true"}),
    (
        "--evals-repeat",
        "Run each golden N times (own seed and cassette each).",
        {"type": int, "metavar": "N"},
    ),
    ("--evals-shard", "Run shard I of N; merge reports with evals merge.", {"metavar": "I/N"}),
    (
        "--evals-only",
        "Run only these golden ids (comma-separated; id@N for one repetition; * for every "
        "golden), deselecting every other test.",
        {"metavar": "IDS"},
    ),
    (
        "--evals-experiment",
        "Log this run to Phoenix as an experiment on dataset NAME (pushed first).",
        {"metavar": "NAME"},
    ),
    (
        "--evals-strict-judges",
        "Gate on an untrusted judge's rows too (default: advisory; ini evals_judge_gating).",
        {"action": "store_true"},
    ),
    ("--evals-markdown", "Write the summary as a Markdown table to PATH.", {"metavar": "PATH"}),
)


#: The plugin's ini keys, under both names (a misspelt one is an error, not a silent default).
KNOWN_KEYS = {name for key in INI_NAMES for name in (key, old(key))}


def plugin_ini_keys(pytest_config: Any) -> list[str]:
    """The plugin's keys (either spelling) the project's ini file sets."""
    keys = ini_file_keys(getattr(pytest_config, "inipath", None))
    return [k for k in keys if k in KNOWN_KEYS]


def ini_file_keys(path: Path | None) -> list[str]:
    """The keys the project's ini file sets for pytest (``[tool.pytest.ini_options]``, or the
    ``[pytest]``/``[tool:pytest]`` section)."""
    import configparser
    import tomllib

    if path is None or not Path(path).is_file():
        return []
    path = Path(path)
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return list(data.get("tool", {}).get("pytest", {}).get("ini_options", {}))
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        section = next((s for s in ("pytest", "tool:pytest") if parser.has_section(s)), None)
        return list(parser[section]) if section else []
    except (OSError, ValueError, configparser.Error):
        return []  # pytest itself reports an unreadable ini file
