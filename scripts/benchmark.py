"""Benchmarks of pytest-supportbot-evals: prints a table with pass/fail per target, writes JSON.

    .venv/bin/python scripts/benchmark.py [--runs N] [--rounds N] [--cases N] [--json PATH]
                                          [--only startup,replay,scale,phoenix,recording]

This machine's cores are shared, so wall-clock time swings with other people's load: the
targets are judged on CPU time (user + system) of interleaved samples, each reported as a
median with its spread (min-max); wall-clock rows are kept, labelled as such.

* startup   a trivial test file under pytest, plugin enabled vs ``-p no:supportbot_evals``, run
            in interleaved pairs: median of the pairs' CPU ratios. Target <= 3 %.
* replay    the committed golden suite (the Quick start's main job) vs a ``--collect-only`` of
            the same suite, interleaved: CPU and wall time. Target <= 10 s wall.
* scale     1,000 SYNTHETIC goldens, made by re-using real recorded cassettes under new ids
            (labelled synthetic): CPU time per case of the plugin, of the agent and judge called
            directly, and of the FLOOR (plain vcrpy + openai replaying the same requests), each
            in a fresh process, interleaved over ``--rounds`` rounds (scripts/bench_cpu.py);
            the plugin's ratio to the floor per round. Target ratio <= 1.5x; the whole pytest
            run <= 60 s wall and <= 400 MB. Also timed: pytest on as many tests that do nothing,
            giving the least ratio any plugin could reach, (direct + pytest) / floor, and the
            plugin's own share, plugin - direct - pytest.
* phoenix   1,000 annotations to a real local ``phoenix serve``: time and HTTP requests.
            Target <= 3 s in <= 20 requests.
* recording 8 goldens against the local llama.cpp server, serial vs 2 workers on a 2-slot
            server. Target: concurrent faster than serial.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench_cpu import TIMER_CONFTEST  # noqa: E402
from bench_parts import (  # noqa: E402
    machine,
    measure,
    phoenix_annotations,
    shown,
    spread,
    synthetic_project,
    trivial_project,
)

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
#: pytest-recording is in this venv only as a dev dependency (a comparison test); it is not
#: installed with the plugin and adds ~0.2 ms to every test, so the per-case samples leave it out.
NOT_SHIPPED = ["-p", "no:recording"]


def bench_startup(runs: int, **_: Any) -> dict[str, Any]:
    """Interleaved pairs (the order alternating), so load swings hit both sides of a pair."""
    cpu_ratios, wall_ratios, on, off = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_trivial.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        with_plugin = [*PYTEST, "test_trivial.py"]
        without = [*with_plugin, "-p", "no:supportbot_evals"]
        measure(with_plugin, project)  # warm the file cache
        for n in range(runs):
            first, second = (with_plugin, without) if n % 2 == 0 else (without, with_plugin)
            a, b = measure(first, project), measure(second, project)
            yes, no = (a, b) if n % 2 == 0 else (b, a)
            on.append(yes[1])
            off.append(no[1])
            cpu_ratios.append(yes[1] / no[1] - 1)
            wall_ratios.append(yes[0] / no[0] - 1)
    overhead = statistics.median(cpu_ratios)
    return {
        "name": "startup overhead",
        "cpu_with_plugin_s": shown(spread(on, digits=3)),
        "cpu_without_plugin_s": shown(spread(off, digits=3)),
        "cpu_overhead_pct": shown(spread(cpu_ratios, 100, 1)),
        "wall_clock_overhead_pct": shown(spread(wall_ratios, 100, 1)),
        "target": "<= 3 % (median of the pairs' CPU ratios)",
        "pass": overhead <= 0.03,
    }


def bench_replay(runs: int, **_: Any) -> dict[str, Any]:
    """The Quick start's main job vs a --collect-only of the same suite, interleaved."""
    command = [*PYTEST, "tests/evals", "-o", "evals_thresholds="]
    job: list[tuple[float, float, float, int]] = []
    collect: list[tuple[float, float, float, int]] = []
    for n in range(max(3, runs // 3)):
        pair = [(job, command), (collect, [*command, "--collect-only"])]
        for samples, cmd in pair if n % 2 == 0 else pair[::-1]:
            samples.append(measure(cmd, ROOT))
    wall = statistics.median(s[0] for s in job)
    return {
        "name": "golden suite replay",
        "cases": 48,
        "cpu_s": shown(spread([s[1] for s in job])),
        "collect_only_cpu_s": shown(spread([s[1] for s in collect])),
        "wall_clock_s": shown(spread([s[0] for s in job])),
        "collect_only_wall_clock_s": shown(spread([s[0] for s in collect])),
        "peak_rss_mb": round(max(s[2] for s in job), 1),
        "exit_codes": sorted({s[3] for s in job}),
        "target": "<= 10 s wall",
        "pass": wall <= 10,
    }


def _cpu_sample(kind: str, project: Path) -> tuple[float, tuple[float, float, float, int] | None]:
    """(CPU s per case, the whole run's measure for the plugin) of one fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        run = None
        if kind in ("plugin", "pytest"):  # pytest: the trivial project beside ``project``
            env = {**os.environ, "BENCH_CPU_OUT": str(out)}
            plugin = kind == "plugin"
            where = project if plugin else project.parent / "trivial"
            options = ["-o", "evals_thresholds="] if plugin else []
            run = measure([*PYTEST, *NOT_SHIPPED, "tests", *options], where, env)
        else:
            script = str(ROOT / "scripts" / "bench_cpu.py")
            measure([sys.executable, script, kind, str(project), str(out)], ROOT)
        if not out.exists():
            raise RuntimeError(f"the {kind} sample gave no timing (exit {run and run[3]})")
        return json.loads(out.read_text())["cpu_s_per_case"], run


def bench_scale(runs: int, rounds: int = 5, cases: int = 1000) -> dict[str, Any]:
    kinds = ["plugin", "direct", "floor", "pytest"]
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    runs_of_plugin = []
    with tempfile.TemporaryDirectory() as tmp:
        project = synthetic_project(Path(tmp) / "synthetic", cases)
        trivial = trivial_project(Path(tmp) / "trivial", cases)
        for root in (project, trivial):
            (root / "tests" / "conftest.py").write_text(TIMER_CONFTEST)
        for n in range(rounds):
            for kind in kinds if n % 2 == 0 else kinds[::-1]:
                per_case, run = _cpu_sample(kind, project)
                cpu[kind].append(per_case)
                if run is not None and kind == "plugin":
                    runs_of_plugin.append(run)
    ratios = [p / f for p, f in zip(cpu["plugin"], cpu["floor"], strict=True)]
    # No plugin can run a case for less than the agent and judge cost called directly plus
    # what pytest itself spends per test: the least ratio attainable here, per round.
    least = [
        (d + t) / f for d, t, f in zip(cpu["direct"], cpu["pytest"], cpu["floor"], strict=True)
    ]
    median = statistics.median
    wall = statistics.median(r[0] for r in runs_of_plugin)
    rss = max(r[2] for r in runs_of_plugin)
    return {
        "name": "scale (synthetic)",
        "cases": cases,
        "plugin_cpu_ms_per_case": shown(spread(cpu["plugin"], 1000)),
        "direct_cpu_ms_per_case": shown(spread(cpu["direct"], 1000)),
        "floor_cpu_ms_per_case": shown(spread(cpu["floor"], 1000)),
        "pytest_cpu_ms_per_trivial_test": shown(spread(cpu["pytest"], 1000)),
        "plugin_to_floor": shown(spread(ratios), "x"),
        "least_attainable_to_floor": shown(spread(least), "x"),
        "plugin_own_cpu_ms_per_case": round(
            1000 * (median(cpu["plugin"]) - median(cpu["direct"]) - median(cpu["pytest"])), 2
        ),
        "pytest_run_wall_clock_s": shown(spread([r[0] for r in runs_of_plugin], digits=1)),
        "pytest_run_cpu_s": shown(spread([r[1] for r in runs_of_plugin], digits=1)),
        "peak_rss_mb": round(rss, 1),
        "exit_codes": sorted({r[3] for r in runs_of_plugin}),
        "target": "ratio <= 1.5x (median); run <= 60 s wall, <= 400 MB",
        "pass": statistics.median(ratios) <= 1.5 and wall <= 60 and rss <= 400,
    }


def bench_phoenix(runs: int, count: int = 1000, **_: Any) -> dict[str, Any]:
    seconds, requests = phoenix_annotations(count)
    return {
        "name": "phoenix annotations",
        "annotations": count,
        "seconds": round(seconds, 2),
        "http_requests": requests,
        "target": "<= 3 s, <= 20 requests",
        "pass": seconds <= 3 and requests <= 20,
    }


def bench_recording(runs: int, **_: Any) -> dict[str, Any]:
    from devservices.llm_server import LlmServer

    ids = [
        "tutorial-refund",
        "tutorial-order-not-found",
        "tutorial-forgot-password",
        "tutorial-order-shipped",
        "faq-pay-with-paypal",
        "faq-end-subscription",
        "order-on-hold",
        "offtopic-weather",
    ]
    timings = {}
    with tempfile.TemporaryDirectory() as tmp, LlmServer(parallel=2, threads=1) as server:
        for label, workers in (("serial", 1), ("concurrent", 2)):
            folder = Path(tmp) / label
            command = [
                sys.executable,
                "-m",
                "pytest_supportbot_evals.cli",
                "record",
                *ids,
                "--cassettes",
                str(folder),
                "--workers",
                str(workers),
            ]
            start = time.perf_counter()
            subprocess.run(
                command,
                cwd=ROOT,
                capture_output=True,
                check=False,
                env={**_env(), "OPENAI_BASE_URL": server.base_url},
            )
            timings[label] = time.perf_counter() - start
            shutil.rmtree(folder, ignore_errors=True)
    speedup = timings["serial"] / timings["concurrent"]
    return {
        "name": "recording (8 goldens)",
        "serial_s": round(timings["serial"], 1),
        "concurrent_s": round(timings["concurrent"], 1),
        "speedup": round(speedup, 2),
        "target": "concurrent faster (2 server slots)",
        "pass": speedup > 1.0,
    }


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUPPORTBOT_"))}


BENCHES = {
    "startup": bench_startup,
    "replay": bench_replay,
    "scale": bench_scale,
    "phoenix": bench_phoenix,
    "recording": bench_recording,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmark-results.json")
    parser.add_argument("--rounds", type=int, default=5, help="scale: interleaved rounds")
    parser.add_argument("--cases", type=int, default=1000, help="scale: synthetic goldens")
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    where = machine()
    print(f"machine: {where}", file=sys.stderr, flush=True)
    for name in args.only.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if name == "scale":
            results.append(bench_scale(args.runs, rounds=args.rounds, cases=args.cases))
        else:
            results.append(BENCHES[name](args.runs))
    print(f"machine: {where}")
    for result in results:
        result["machine"] = where
        figures = ", ".join(
            f"{k}={v}" for k, v in result.items() if k not in ("name", "pass", "machine")
        )
        print(f"{'PASS' if result['pass'] else 'FAIL'}  {result['name']:<24} {figures}")
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {args.json}")
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
