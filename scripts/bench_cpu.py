"""CPU time per replayed case, measured inside one fresh process per sample (scripts/benchmark.py).

    python scripts/bench_cpu.py {plugin,direct,floor} PROJECT OUT.json

Each sample replays every golden of a synthetic project (``bench_parts.synthetic_project``) and
reports the process CPU time (user + system, ``time.process_time``) per case over all cases but
the first: the first case pays the one-time work (imports, building the agent and the judge,
opening the HTTP clients), the same in all three, and is left out of all three alike.

* plugin  ``pytest tests`` in the project, timed by the project's conftest (``TIMER_CONFTEST``):
          from the start of the second golden test to the end of the last, so pytest's own
          per-test work (reports, terminal, fixtures) is counted.
* direct  the agent and the judge called without pytest on the same cassettes.
* floor   plain vcrpy + the openai SDK replaying the same requests (no agent, no judge, no
          plugin): the least any replaying tool can cost here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

#: Written as the synthetic project's tests/conftest.py; the output path comes from the env.
TIMER_CONFTEST = '''"""Benchmark timer (scripts/bench_cpu.py): CPU time, 2nd golden test to last."""
import json, os, time

_marks = {}


def pytest_collection_finish(session):
    _marks["count"] = len(session.items)
    _marks["second"] = session.items[1].nodeid if len(session.items) > 1 else None


def pytest_runtest_logstart(nodeid, location):
    if nodeid == _marks.get("second"):
        _marks["start"] = time.process_time()


def pytest_sessionfinish(session):
    end = time.process_time()
    out = os.environ.get("BENCH_CPU_OUT")
    if out and "start" in _marks:
        cases = _marks["count"] - 1
        with open(out, "w") as handle:
            json.dump({"cpu_s_per_case": (end - _marks["start"]) / cases, "cases": cases}, handle)
'''


def _cases(project: Path) -> list[dict]:
    return yaml.safe_load((project / "goldens" / "synthetic.yaml").read_text())["cases"]


def direct(project: Path) -> tuple[float, int]:
    """CPU seconds per case when the agent and the judge run on the cassettes without pytest."""
    from bench_parts import ini_settings
    from supportbot.agent import SupportBot
    from supportbot.evaluate import judge_spans

    from evals_core.judges import RetrievalRelevanceJudge
    from evals_core.spans import SpanView
    from evals_core.tracing import memory_provider
    from pytest_supportbot_evals.recording.cassettes import use_cassette

    settings = ini_settings()
    provider, exporter = memory_provider("bench")
    bot, judge = SupportBot(settings, tracer_provider=provider), RetrievalRelevanceJudge(settings)

    def replay(case: dict) -> None:
        with use_cassette(project / "cassettes" / f"{case['id']}.yaml", "none"):
            bot.handle(case["query"])
            judge_spans([SpanView.from_otel(s) for s in exporter.get_finished_spans()], judge)
        exporter.clear()

    return _timed(replay, _cases(project))


def floor(project: Path) -> tuple[float, int]:
    """CPU seconds per case for plain vcrpy + the openai SDK replaying the same requests."""
    import inspect

    import vcr
    from openai import OpenAI
    from openai.resources.chat.completions import Completions

    plans = []
    for case in _cases(project):  # read the requests outside the timed loop
        path = project / "cassettes" / f"{case['id']}.yaml"
        interactions = yaml.safe_load(path.read_text())["interactions"]
        base = interactions[0]["request"]["uri"].rsplit("/chat/completions", 1)[0]
        plans.append((path, base, [json.loads(i["request"]["body"]) for i in interactions]))
    recorder = vcr.VCR(record_mode="none")
    SDK_PARAMS = set(inspect.signature(Completions.create).parameters) - {"self", "extra_body"}
    clients = {base: OpenAI(api_key="floor", base_url=base, max_retries=0) for _, base, _ in plans}

    def replay(plan: tuple[Path, str, list[dict]]) -> None:
        path, base, bodies = plan
        with recorder.use_cassette(str(path), allow_playback_repeats=True):
            for body in bodies:  # the SDK's own parameters as the agent passes them
                create = clients[base].chat.completions.create
                params = {k: v for k, v in body.items() if k in SDK_PARAMS}
                extra = {k: v for k, v in body.items() if k not in SDK_PARAMS}
                create(**params, **({"extra_body": extra} if extra else {}))

    return _timed(replay, plans)


def _timed(replay: object, items: list) -> tuple[float, int]:
    replay(items[0])  # type: ignore[operator]  # warm-up: the one-time work, left out
    start = time.process_time()
    for item in items[1:]:
        replay(item)  # type: ignore[operator]
    return (time.process_time() - start) / (len(items) - 1), len(items) - 1


def main() -> int:
    kind, project, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    per_case, cases = {"direct": direct, "floor": floor}[kind](project)
    out.write_text(json.dumps({"cpu_s_per_case": per_case, "cases": cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
