"""Benchmarks of pytest-supportbot-evals: prints a table with pass/fail per target, writes JSON.

    .venv/bin/python scripts/benchmark.py [--runs N] [--json PATH] [--only startup,replay,...]

* startup   a trivial test file under pytest, plugin enabled vs ``-p no:supportbot_evals``
            (interleaved runs, medians, ratio taken in the same run). Target <= 5 %.
* replay    the committed golden suite from cassettes: wall time, peak RSS. Target <= 10 s.
* scale     1,000 SYNTHETIC goldens, made by re-using real recorded cassettes under new ids
            (labelled synthetic): wall, peak RSS, per-case overhead of the plugin over calling
            the agent directly with the same cassettes. Target <= 60 s and <= 400 MB.
* phoenix   1,000 annotations to a real local ``phoenix serve``: time and HTTP requests.
            Target <= 3 s in <= 20 requests.
* recording 8 goldens against the local llama.cpp server, serial vs 2 workers on a 2-slot
            server. Target: concurrent faster than serial.
"""

from __future__ import annotations

import argparse
import json
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
from bench_parts import (  # noqa: E402
    direct_replay,
    floor_replay,
    phoenix_annotations,
    synthetic_project,
)

MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)"
)


def measure(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(wall seconds, peak RSS of the command in MB, exit code), in a fresh measuring process."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall, rss, code = done.stdout.split()[-3:]
    return float(wall), int(rss) / 1024, int(code)


PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def bench_startup(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_trivial.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        on, off = [], []
        measure([*PYTEST, "test_trivial.py"], project)  # warm the file cache
        for _ in range(runs):
            on.append(measure([*PYTEST, "test_trivial.py"], project)[0])
            off.append(
                measure([*PYTEST, "test_trivial.py", "-p", "no:supportbot_evals"], project)[0]
            )
    overhead = statistics.median(on) / statistics.median(off) - 1
    return {
        "name": "startup overhead",
        "with_plugin_s": round(statistics.median(on), 3),
        "without_plugin_s": round(statistics.median(off), 3),
        "overhead_pct": round(100 * overhead, 1),
        "target": "<= 5 %",
        "pass": overhead <= 0.05,
    }


def bench_replay(runs: int) -> dict[str, Any]:
    command = [*PYTEST, "tests/evals", "-o", "supportbot_thresholds="]
    samples = [measure(command, ROOT) for _ in range(max(3, runs // 5))]
    wall = statistics.median(s[0] for s in samples)
    return {
        "name": "golden suite replay",
        "cases": 48,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(max(s[1] for s in samples), 1),
        "exit_codes": sorted({s[2] for s in samples}),
        "target": "<= 10 s",
        "pass": wall <= 10,
    }


def bench_scale(runs: int, cases: int = 1000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = synthetic_project(Path(tmp), cases)
        wall, rss, code = measure([*PYTEST, "tests", "-o", "supportbot_thresholds="], project)
        startup, _, _ = measure([*PYTEST, "tests", "--co", "-o", "supportbot_thresholds="], project)
        direct = direct_replay(project, cases)
        floor = floor_replay(project, cases)
    plugin_per_case = (wall - startup) / cases
    return {
        "name": "scale (synthetic)",
        "cases": cases,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss, 1),
        "exit_code": code,
        "plugin_ms_per_case": round(1000 * plugin_per_case, 1),
        "direct_ms_per_case": round(1000 * direct, 1),
        "plugin_overhead_ms_per_case": round(1000 * (plugin_per_case - direct), 1),
        # The floor: plain vcrpy + openai replaying the same requests, measured in this run.
        "floor_ms_per_case": round(1000 * floor, 1),
        "ratio_to_floor": round(plugin_per_case / floor, 2),
        "target": "<= 60 s, <= 400 MB",
        "pass": wall <= 60 and rss <= 400,
    }


def bench_phoenix(runs: int, count: int = 1000) -> dict[str, Any]:
    seconds, requests = phoenix_annotations(count)
    return {
        "name": "phoenix annotations",
        "annotations": count,
        "seconds": round(seconds, 2),
        "http_requests": requests,
        "target": "<= 3 s, <= 20 requests",
        "pass": seconds <= 3 and requests <= 20,
    }


def bench_recording(runs: int) -> dict[str, Any]:
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
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    results = []
    for name in args.only.split(","):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(BENCHES[name](args.runs))
    for result in results:
        figures = ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("name", "pass"))
        print(f"{'PASS' if result['pass'] else 'FAIL'}  {result['name']:<24} {figures}")
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {args.json}")
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
