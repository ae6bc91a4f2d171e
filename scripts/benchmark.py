"""Benchmarks of pytest-supportbot-evals: prints a table and writes JSON.

    .venv/bin/python scripts/benchmark.py [--runs N] [--json PATH] [--only startup,replay]

* startup: a trivial test file under pytest with the plugin enabled vs ``-p no:supportbot_evals``
  (interleaved runs, medians, ratio from the same run). Target: overhead <= 5 %.
* replay: the committed golden suite replayed from cassettes: wall time and peak RSS.
  Target: <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS of the child in MB, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, done.returncode


def bench_startup(runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "test_trivial.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_trivial.py"]
        with_plugin, without = [], []
        timed(base, project)  # warm the file cache
        for _ in range(runs):
            with_plugin.append(timed(base, project)[0])
            without.append(timed([*base, "-p", "no:supportbot_evals"], project)[0])
    on, off = statistics.median(with_plugin), statistics.median(without)
    overhead = on / off - 1
    return {
        "name": "startup overhead",
        "with_plugin_s": round(on, 3),
        "without_plugin_s": round(off, 3),
        "overhead": round(overhead, 4),
        "target": "<= 5%",
        "pass": overhead <= 0.05,
    }


def bench_replay(runs: int) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/evals",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "supportbot_thresholds=",
    ]
    samples = [timed(command, ROOT) for _ in range(max(1, runs // 5))]
    wall = statistics.median(s[0] for s in samples)
    return {
        "name": "golden suite replay",
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(max(s[1] for s in samples), 1),
        "exit_codes": sorted({s[2] for s in samples}),
        "target": "<= 10 s",
        "pass": wall <= 10.0,
    }


BENCHES = {"startup": bench_startup, "replay": bench_replay}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmark-results.json")
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    results = [BENCHES[name](args.runs) for name in args.only.split(",")]
    for result in results:
        figures = ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("name", "pass"))
        print(f"{'PASS' if result['pass'] else 'FAIL'}  {result['name']:<22} {figures}")
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {args.json}")
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
