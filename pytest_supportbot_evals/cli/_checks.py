"""``evals`` checks of committed files: secrets (in any encoding), recorded replies
(usable, and sealed as recorded), and re-sealing after a deliberate edit."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pytest_supportbot_evals.config.options import PREFIX, neutral
from pytest_supportbot_evals.recording import secrets

#: Every committed cassette folder (checked by ``check-cassettes`` by default, and in CI).
CASSETTE_FOLDERS = (
    "cassettes",
    "tests/conversations/cassettes",
    "tests/robustness/cassettes",
    "tests/evals/experiments",
)


def _must_exist(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValueError(f"{', '.join(missing)}: no such file or folder; check the path.")


def _project_files(root: Path, suffixes: set[str]) -> Iterator[Path]:
    """The project's files with these suffixes, outside environments, caches and dot-folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        yield from (Path(folder) / f for f in files if Path(f).suffix in suffixes)


def cmd_seal(args: argparse.Namespace) -> int:
    from pytest_supportbot_evals.recording.cassettes import check_seal, reseal
    from pytest_supportbot_evals.recording.health import cassette_files

    _must_exist(args.paths)
    intact = 0
    for path in cassette_files(args.paths):
        if not check_seal(path):
            intact += 1
            continue
        count = reseal(path)
        print(f"sealed {path} ({count} interactions): commit it with the reason for the edit")
    if intact:
        print(f"{intact} cassette(s) already match their seal: left as they are.")
    return 0


def project_cassettes(root: Path) -> list[Path]:
    """Every vcrpy cassette of the project (a YAML file that starts with ``interactions:``),
    wherever its suite keeps it; the ini's cassette folder must exist if it is set."""
    ini = _ini(root)
    configured = root / str(ini.get("evals_cassettes", "cassettes"))
    if "evals_cassettes" in ini and not configured.exists():
        raise ValueError(f"ini evals_cassettes: {configured} does not exist; fix the setting.")
    return sorted(p for p in _project_files(root, {".yaml", ".yml"}) if _starts_like_a_cassette(p))


def _starts_like_a_cassette(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(64).lstrip().startswith("interactions:")


def cmd_check_secrets(args: argparse.Namespace) -> int:
    _must_exist(args.paths)
    paths = args.paths or default_scan(Path.cwd())
    findings = secrets.scan_paths(paths)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} secret(s) found; remove them (and rotate the keys).", file=sys.stderr
        )
        return 1
    shown = [str(p) for p in paths[:6]] + ([f"... ({len(paths)} paths)"] if len(paths) > 6 else [])
    print(f"No secrets found in {', '.join(shown)}.")
    return 0


#: Folders never scanned by default: environments and tool caches, not project data.
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".ruff_cache"}
DATA_SUFFIXES = {".yaml", ".yml", ".json", ".jsonl", ".rejected"}


def default_scan(root: Path) -> list[Path]:
    """What ``check-secrets`` scans with no arguments: the ini's cassette folder, golden folders
    and spool folder (an ini path that does not exist is an error), then every data file of the
    project (other suites' cassettes and goldens, reports, baselines)."""
    ini = _ini(root)
    paths = []
    for key, default in (("evals_cassettes", "cassettes"), ("evals_goldens", "")):
        for entry in str(ini.get(key, default)).split(","):
            path = root / entry.strip()
            if entry.strip() and not path.exists() and key in ini:
                raise ValueError(f"ini {key}: {path} does not exist; fix the setting.")
            if entry.strip() and path.exists():
                paths.append(path)
    spool = root / str(ini.get("evals_spool", ".evals/phoenix-spool.jsonl"))
    if spool.parent.exists():
        paths.append(spool.parent)
    configured = [p for p in paths if p.is_dir()]
    paths += [
        f
        for f in _project_files(root, DATA_SUFFIXES)
        if not any(f.is_relative_to(p) for p in configured)
    ]
    return sorted(set(paths))


def _ini(root: Path) -> dict[str, object]:
    import tomllib

    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return {}
    with pyproject.open("rb") as handle:
        raw = tomllib.load(handle).get("tool", {}).get("pytest", {}).get("ini_options", {})
    # the neutral names, a deprecated ``supportbot_`` key read as its ``evals_`` one
    return {**{neutral(k): v for k, v in raw.items() if k.startswith(PREFIX)}, **raw}


def cmd_check_cassettes(args: argparse.Namespace) -> int:
    from pytest_supportbot_evals.recording import health

    paths = args.paths or project_cassettes(Path.cwd())
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValueError(f"no such cassette file or folder: {', '.join(missing)}")
    if not paths:
        raise ValueError(f"no cassette found under {Path.cwd()}; give the cassette folders.")
    files = list(health.cassette_files(paths))
    problems, cut, interactions = [], [], 0
    for path in files:
        result = health.check_file(path)
        problems += result.problems
        if not result.problems:  # a usable cassette must also match its seal
            problems += result.unsealed
        cut += result.cut_answers
        interactions += result.interactions
    for problem in problems:
        print(problem)
    print(
        f"{len(files)} cassette(s), {interactions} recorded replies: {len(problems)} unusable; "
        f"{len(cut)} answer(s) reached their max_tokens (allowed)"
    )
    if problems:
        print(
            "Re-record the cassettes named above (evals record ID ...); never edit a "
            "recorded reply by hand (a deliberate edit: evals seal PATH).",
            file=sys.stderr,
        )
        return 1
    return 0
