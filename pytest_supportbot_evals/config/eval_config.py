"""The plugin's configuration: one frozen object from command-line options, ini and env.

Precedence: command line, then ``[tool.pytest.ini_options]``, then environment, then default.
The model and endpoint that replay uses come from the ini file on purpose: they are facts
about the committed cassettes, and a developer's shell variables must not silently change them.
Parsing is strict: an unknown evaluator or a malformed value is a usage error naming the setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals_core.judges import JUDGE_METHODS
from evals_core.settings import Settings
from pytest_supportbot_evals.config import _agent_config as agent_config
from pytest_supportbot_evals.config._agent_config import AgentConfig
from pytest_supportbot_evals.config.options import ini_value
from pytest_supportbot_evals.evaluators.base import Registry
from pytest_supportbot_evals.evaluators.calibration import JudgePolicy
from pytest_supportbot_evals.evaluators.registry import reference_registry
from pytest_supportbot_evals.recording.cassettes import RECORD_MODES
from pytest_supportbot_evals.run import timeouts
from pytest_supportbot_evals.verdict.gate import parse_thresholds


class ConfigError(ValueError):
    """A setting of the plugin is invalid; the message names it."""


@dataclass(frozen=True)
class EvalConfig:
    rootdir: Path
    goldens: tuple[Path, ...]
    cassette_dir: Path
    record_mode: str
    #: Thresholds from the command line (win over every suite's own) and from the ini file
    #: (apply to every suite that does not set the evaluator in its marker).
    cli_thresholds: dict[str, float]
    ini_thresholds: dict[str, float]
    report_path: Path | None
    phoenix_endpoint: str | None
    spool_path: Path
    strict: bool
    judge_method: str
    settings: Settings
    baseline_path: Path | None = None
    update_baseline: bool = False
    repeat: int = 1
    shard: tuple[int, int] | None = None
    markdown_path: Path | None = None
    judges: JudgePolicy = field(default_factory=JudgePolicy)
    #: Phoenix dataset to log the run to as an experiment (needs ``phoenix_endpoint``).
    experiment_dataset: str | None = None
    #: The agent under the gate and the evaluators of the run (SupportBot's when unset).
    agent: AgentConfig | None = None
    #: USD per million (prompt, completion) tokens, by model; and the token-growth rule.
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_token_growth: float | None = None
    #: Seconds one golden may take (``None``: no limit).
    golden_timeout: float | None = None
    max_completion_growth: float | None = None

    @property
    def registry(self) -> Registry:
        return self.agent.registry if self.agent else reference_registry()

    @property
    def replaying(self) -> bool:
        return self.record_mode == "none"

    def thresholds_for(self, suite_own: dict[str, float]) -> dict[str, float]:
        """A suite's thresholds: the command line, then the suite's marker, then the ini."""
        return {**self.ini_thresholds, **suite_own, **self.cli_thresholds}


def build(pytest_config: Any) -> EvalConfig:
    """Read options, ini and env; raise ``ConfigError`` with the setting's name on bad input."""
    opt = pytest_config.getoption
    root = Path(str(pytest_config.rootpath))

    def ini(name: str) -> Any:
        return ini_value(pytest_config.getini, name)

    try:
        agent = agent_config.build(pytest_config, root)
    except agent_config.AgentConfigError as exc:
        raise ConfigError(str(exc)) from None
    names = agent.registry.names

    record_mode = opt("evals_record_mode") or "none"
    if record_mode not in RECORD_MODES:
        raise ConfigError(f"--evals-record-mode={record_mode!r}: use one of {RECORD_MODES}.")
    ini_thresholds = parse_thresholds(ini("evals_thresholds"), "ini evals_thresholds", names)
    cli_thresholds = parse_thresholds(opt("evals_threshold") or [], "--evals-threshold", names)
    judge_method = ini("evals_judge_method") or "auto"
    if judge_method not in JUDGE_METHODS:
        raise ConfigError(f"ini evals_judge_method={judge_method!r}: use one of {JUDGE_METHODS}.")

    settings = Settings.from_env()
    # an explicit --evals-model answers too; else the answers ask ini evals_answer_model, if set
    explicit = opt("evals_model") or None
    settings = settings.with_overrides(
        model=explicit or ini("evals_model") or None,
        answer_model=explicit or ini("evals_answer_model") or None,
        judge_model=ini("evals_judge_model") or None,
        max_tokens=_tokens(ini, "evals_max_tokens"),
        classify_max_tokens=_tokens(ini, "evals_classify_max_tokens"),
        judge_max_tokens=_tokens(ini, "evals_judge_max_tokens"),
        classify_top_logprobs=_tokens(ini, "evals_classify_top_logprobs", low=0, high=20),
        phoenix_project=ini("evals_phoenix_project")
        or os.environ.get("PHOENIX_PROJECT_NAME", "").strip()
        or agent.default_project(),
        # Replay never retries: a miss is an answer, not a flake.
        max_retries=0 if record_mode == "none" else None,
    )
    endpoint = _phoenix_endpoint(opt("evals_phoenix"))
    report = _output_path(opt("evals_report"), "--evals-report")
    markdown = _output_path(opt("evals_markdown"), "--evals-markdown")
    baseline = opt("evals_baseline") or ini("evals_baseline")
    for limit in ("max_token_growth", "max_completion_growth"):
        if {f"supportbot_{limit}", f"evals_{limit}"} & set(agent.ini_keys) and not baseline:
            raise ConfigError(
                f"ini evals_{limit} is set, but no baseline to compare tokens with: set ini "
                "evals_baseline (or --evals-baseline), or drop the limit."
            )
    if opt("evals_update_baseline") and not baseline:
        raise ConfigError(
            "--evals-update-baseline writes the baseline, but none is set: give "
            "--evals-baseline PATH or ini evals_baseline (e.g. tests/baseline.json)."
        )
    repeat = opt("evals_repeat")
    repeat = 1 if repeat is None else repeat
    if repeat < 1:
        raise ConfigError(f"--evals-repeat={repeat}: give a whole number of at least 1.")
    gating = ini("evals_judge_gating") or "advisory"
    if gating not in ("advisory", "strict"):
        raise ConfigError(f"ini evals_judge_gating={gating!r}: use advisory or strict.")
    judges = JudgePolicy(
        min_kappa=_fraction(ini("evals_min_judge_kappa"), "ini evals_min_judge_kappa", -1.0),
        min_accuracy=_fraction(ini("evals_min_judge_accuracy"), "ini evals_min_judge_accuracy"),
        strict=gating == "strict" or bool(opt("evals_strict_judges")),
    )
    experiment = opt("evals_experiment") or ini("evals_experiment") or None
    if experiment and not endpoint:
        raise ConfigError(
            f"--evals-experiment={experiment!r} logs to Phoenix: give --evals-phoenix "
            "URL or set PHOENIX_COLLECTOR_ENDPOINT."
        )
    goldens = tuple(root / p for p in (opt("evals_goldens") or ini("evals_goldens")).split(","))
    return EvalConfig(
        rootdir=root,
        goldens=goldens,
        cassette_dir=root / ini("evals_cassettes"),
        record_mode=record_mode,
        cli_thresholds=cli_thresholds,
        ini_thresholds=ini_thresholds,
        report_path=report,
        phoenix_endpoint=endpoint,
        spool_path=root / ini("evals_spool"),
        strict=bool(opt("evals_strict")),
        judge_method=judge_method,
        settings=settings,
        baseline_path=root / baseline if baseline else None,
        update_baseline=bool(opt("evals_update_baseline")),
        repeat=repeat,
        shard=_shard(opt("evals_shard")),
        markdown_path=markdown,
        judges=judges,
        experiment_dataset=experiment,
        agent=agent,
        prices=_prices(ini("evals_prices")),
        max_token_growth=_growth(ini("evals_max_token_growth")),
        golden_timeout=timeouts.parse(ini("evals_golden_timeout"), ConfigError),
        max_completion_growth=_growth(
            ini("evals_max_completion_growth"), "evals_max_completion_growth"
        ),
    )


def _phoenix_endpoint(option: str | None) -> str | None:
    """The Phoenix URL from ``--evals-phoenix`` or ``PHOENIX_COLLECTOR_ENDPOINT``, checked."""
    from urllib.parse import urlsplit

    from evals_core.tracing import public_url

    where, raw = "--evals-phoenix", option
    if not raw:
        where, raw = "PHOENIX_COLLECTOR_ENDPOINT", os.environ.get("PHOENIX_COLLECTOR_ENDPOINT")
    if not raw or not raw.strip():
        return None
    url = raw.strip()
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"{where}={public_url(raw)!r} is not a Phoenix URL; give http(s)://HOST[:PORT], e.g. "
            "http://127.0.0.1:6006."
        )
    return url


def _output_path(raw: str | None, where: str) -> Path | None:
    """An output file the run will write at its end: refused now if it cannot be written then."""
    if not raw:
        return None
    path = Path(raw)
    if path.is_dir():
        raise ConfigError(f"{where}={raw!r} is a folder; give a file path, e.g. {raw}/report.json.")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{where}={raw!r}: {ancestor} is a file, not a folder; fix the path.")
    if not os.access(ancestor, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise ConfigError(f"{where}={raw!r}: {ancestor} is not writable; choose another path.")
    return path


def _tokens(ini: Any, key: str, low: int = 1, high: int | None = None) -> int | None:
    """A token budget (or count) from the ini file (``None``: not set there)."""
    raw = ini(key)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        within = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ConfigError(f"ini {key}={raw!r} is not a whole number {within}.")
    return value


def _fraction(raw: str, where: str, low: float = 0.0) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{where}={raw!r} is not a number.") from None
    if not low <= value <= 1.0:
        raise ConfigError(f"{where}={raw!r} is out of range; use {low} to 1.")
    return value


def _shard(raw: str | None) -> tuple[int, int] | None:
    """``I/N`` (1-based): this run takes every N-th golden run, starting with the I-th."""
    if not raw:
        return None
    index, _, total = raw.partition("/")
    try:
        shard = int(index), int(total)
    except ValueError:
        shard = (0, 0)
    if not 1 <= shard[0] <= shard[1]:
        raise ConfigError(f"--evals-shard={raw!r}: use I/N with 1 <= I <= N, e.g. 2/4.")
    return shard


def _prices(lines: list[str]) -> dict[str, tuple[float, float]]:
    from pytest_supportbot_evals.verdict.tokens import TokenSettingError, parse_prices

    try:
        return parse_prices(lines, "ini evals_prices")
    except TokenSettingError as exc:
        raise ConfigError(str(exc)) from None


def _growth(raw: str, key: str = "evals_max_token_growth") -> float | None:
    """The token-growth limit (a fraction, e.g. 0.25); empty: no limit."""
    if not str(raw).strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 100.0:
        raise ConfigError(
            f"ini {key}={raw!r}: give a fraction such as 0.25 (+25%), or leave "
            "it empty for no limit."
        )
    return value
