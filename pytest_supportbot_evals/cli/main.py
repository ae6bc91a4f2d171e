"""``evals``: record the golden suite's cassettes, and check files for secrets.

``record`` picks the LLM it records against, in this order: OpenAI when ``OPENAI_API_KEY`` is
set and ``OPENAI_BASE_URL`` is not; the server at ``OPENAI_BASE_URL`` when set; otherwise the
local llama.cpp server, which it installs (first time), starts on loopback and stops again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pytest_supportbot_evals.cli._checks import (
    CASSETTE_FOLDERS,
    cmd_check_cassettes,
    cmd_check_secrets,
    cmd_seal,
)

EVAL_TESTS = "tests"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evals", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    record = sub.add_parser("record", help="re-record cassettes of golden cases (all by default)")
    record.add_argument("ids", nargs="*", help="golden ids to re-record (default: all)")
    record.add_argument(
        "--mode", default="rewrite", choices=("rewrite", "all", "new_episodes", "once")
    )
    record.add_argument("--model", help="model name (default: ini evals_model)")
    record.add_argument(
        "--tests", default=EVAL_TESTS, help=f"eval test file (default {EVAL_TESTS})"
    )
    record.add_argument("--workers", type=int, default=1, help="parallel pytest-xdist workers")
    record.add_argument("--cassettes", type=Path, help="cassette folder (default: ini setting)")
    record.add_argument("--repeat", type=int, default=1, help="repetitions per golden")
    record.add_argument(
        "--goldens", type=Path, help="golden files or folder (default: ini evals_goldens)"
    )
    record.set_defaults(run=cmd_record)
    merge = sub.add_parser("merge", help="merge shard reports into one report and one gate")
    merge.add_argument("reports", nargs="+", type=Path, help="JSON reports of the shards")
    merge.add_argument("--report", type=Path, required=True, help="merged JSON report to write")
    merge.add_argument("--baseline", type=Path, help="baseline to compare with")
    merge.add_argument("--markdown", type=Path, help="write the summary as Markdown too")
    merge.set_defaults(run=cmd_merge)
    check = sub.add_parser("check-secrets", help="scan cassettes, reports and spools for secrets")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="default: the ini's cassette folder, golden folders and spool, and every other "
        "cassette, golden or report file (*.yaml, *.yml, *.json, *.jsonl) of the project",
    )
    check.set_defaults(run=cmd_check_secrets)
    seal = sub.add_parser(
        "seal",
        help="re-seal cassettes after a deliberate edit (the new digests show in review)",
    )
    seal.add_argument("paths", nargs="+", type=Path, help="cassette files or folders")
    seal.set_defaults(run=cmd_seal)
    health = sub.add_parser(
        "check-cassettes",
        help="check recorded replies: no template tokens, no cut-off or unparseable JSON steps",
    )
    health.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="default: every cassette of the project (here: " + ", ".join(CASSETTE_FOLDERS) + ")",
    )
    health.set_defaults(run=cmd_check_cassettes)
    from pytest_supportbot_evals.cli._export import add_export_parser

    add_export_parser(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"evals: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line, not a traceback
        print(f"evals: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def cmd_merge(args: argparse.Namespace) -> int:
    """One gate over shard reports, computed exactly as an unsharded run computes it.

    The shards together must cover every golden run their golden sets plan: a shard that was
    not run, or a run missing from every shard, fails the merged gate, naming the runs.
    """
    from pytest_supportbot_evals.evaluators.calibration import JudgePolicy
    from pytest_supportbot_evals.reporting import report
    from pytest_supportbot_evals.run.runner import CaseResult
    from pytest_supportbot_evals.verdict.analysis import AnalysisInputs, analyse, fingerprint
    from pytest_supportbot_evals.verdict.coverage import Coverage, duplicates

    shards = [_read_report(path) for path in args.reports]
    metas = {json.dumps(shard["meta"].get("goldens")) for shard in shards}
    if len(metas) > 1:
        raise ValueError("the shard reports come from different golden sets; re-run the shards")
    results = [CaseResult.from_dict(case) for shard in shards for case in shard["cases"]]
    twice = duplicates(results)
    if twice:
        raise ValueError(
            f"golden run(s) {', '.join(twice[:10])} appear in more than one report; give each "
            "shard's report once."
        )
    coverage, hashes = Coverage(), {}
    for shard in shards:
        coverage.merge(Coverage.from_dict(shard.get("coverage")))
        hashes.update(shard.get("case_hashes", {}))
    meta = shards[0]["meta"]
    thresholds: dict[str, dict[str, float]] = {}
    for shard in shards:
        for suite, values in shard["meta"].get("thresholds", {}).items():
            thresholds.setdefault(suite, {}).update(values)
        for stat in shard["evaluators"].values():
            if stat["threshold"] is not None:
                thresholds.setdefault(stat["suite"], {})[stat["evaluator"]] = stat["threshold"]
    policy = JudgePolicy.from_dict(meta.get("judge_policy") or {"min_kappa": meta.get("min_kappa")})
    given = AnalysisInputs(
        thresholds,
        run_fingerprint=fingerprint(meta, meta.get("goldens", {})),
        baseline_path=args.baseline,
        policy=policy,
        coverage=coverage,
        case_hashes=hashes,
        missing_of="planned",
        max_token_growth=meta.get("max_token_growth"),
        max_completion_growth=meta.get("max_completion_growth"),
        prices=meta.get("prices") or {},
        models=(meta.get("model") or "", meta.get("judge_model") or ""),
    )
    analysis = analyse(results, given)
    report.write_json(
        args.report, report.build_report(analysis, results, meta, coverage.to_dict(), hashes)
    )
    if args.markdown:
        report.write_text(args.markdown, report.markdown(analysis, results))
    print("\n".join(report.summary_lines(analysis, results)))
    return 0 if analysis.verdict == "pass" else 1


def _read_report(path: Path) -> dict:
    from pytest_supportbot_evals.recording.files import read_json

    data = read_json(
        path,
        f"{path}: no such report; check the shard's --evals-report.",
        f"{path}: not a readable JSON report ({{error}}); re-run its shard.",
    )
    if not isinstance(data, dict) or not {"cases", "meta", "evaluators"} <= set(data):
        raise ValueError(f"{path}: not an evals report; give --evals-report files.")
    if "coverage" not in data or "planned" not in data["coverage"]:
        raise ValueError(
            f"{path}: written by an older version (no coverage of the golden set); "
            "re-run its shard."
        )
    return data


@contextmanager
def llm_endpoint() -> Iterator[dict[str, str]]:
    """Environment for the LLM to record against: the one set (``OPENAI_BASE_URL`` or
    ``OPENAI_API_KEY``), else the local models of SupportBot's dev services, started for the
    block where they are installed. Where they are not (a team's environment: the plugin alone),
    the agent records with its own settings; an agent that calls no LLM needs none."""
    if os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY"):
        yield {}
        return
    import importlib.util

    from pytest_supportbot_evals.run.reference import local_llm

    if importlib.util.find_spec("devservices") is None:
        print(
            "evals: neither OPENAI_BASE_URL nor OPENAI_API_KEY is set, and no local model is "
            "installed: recording with the agent's own settings (an agent or LLM evaluator that "
            "calls an LLM fails to record until one of them is set).",
            file=sys.stderr,
        )
        yield {}
        return

    with local_llm() as base_url:  # installs the server and assembles the model the first time
        print(f"local LLM server up at {base_url}", file=sys.stderr)
        yield {"OPENAI_BASE_URL": base_url}


def cmd_record(args: argparse.Namespace) -> int:
    repeat = max([args.repeat, *(int(i.partition("@")[2] or 0) + 1 for i in args.ids)])
    with tempfile.TemporaryDirectory() as tmp, llm_endpoint() as env:
        report = Path(tmp) / "record-report.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            args.tests,
            "-v",
            "-p",
            "no:cacheprovider",
            f"--evals-record-mode={args.mode}",
            f"--evals-report={report}",
            f"--evals-repeat={repeat}",
        ]
        if args.goldens:
            command.append(f"--evals-goldens={args.goldens}")
        # Only golden runs (of every suite under --tests), never the rest of the test suite.
        command.append(f"--evals-only={','.join(args.ids) or '*'}")
        if args.model:
            command.append(f"--evals-model={args.model}")
        if args.cassettes:
            command += ["-o", f"evals_cassettes={args.cassettes}"]
        if args.workers > 1:
            command += ["-n", str(args.workers)]
        print("recording:", " ".join(command[1:]), file=sys.stderr)
        subprocess.run(command, env={**os.environ, **env}, check=False)
        if not report.exists():
            print(
                "evals: the recording run wrote no report; see pytest's output above.",
                file=sys.stderr,
            )
            return 1
        data = json.loads(report.read_text())
    from pytest_supportbot_evals.run.results import TURN_MARK

    ran = {c["id"].partition(TURN_MARK)[0] for c in data["cases"]}
    unknown = sorted({i.partition("@")[0] for i in args.ids} - ran)
    if unknown:
        print(f"evals: no golden case with id {', '.join(unknown)}", file=sys.stderr)
        return 1
    errored = [c["id"] for c in data["cases"] if c["error"]]
    print(
        f"recorded {len(data['cases']) - len(errored)} case run(s); "
        f"gate over the new recordings: {data['gate']}"
    )
    if errored:
        print(f"not recorded (errors): {', '.join(errored)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
