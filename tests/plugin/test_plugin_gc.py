"""The run freezes the garbage collector's view of its long-lived heap after the first golden
and collects the youngest generation less often (a performance measure: collections then scan
only what the goldens make), and restores both at the session's end."""

import ast

from plugin_helpers import CASE_IDS, output_of

from pytest_supportbot_evals.run.session import GC_YOUNG_THRESHOLD

PROBE = """
import gc

seen = []


def pytest_runtest_setup(item):
    seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))


def pytest_unconfigure(config):
    print(f"\\ngc per test: {seen}; after: {(gc.get_freeze_count(), gc.get_threshold()[0])}")
"""


def test_heap_frozen_after_the_first_golden_and_released_at_the_end(eval_project):
    (eval_project.path / "tests" / "conftest.py").write_text(PROBE, encoding="utf-8")

    result = eval_project.run("-s")

    assert result.ret == 0, output_of(result)
    line = next(x for x in result.outlines if x.startswith("gc per test:"))
    seen, after = ast.literal_eval(line.removeprefix("gc per test: ").replace("; after: ", ","))
    assert len(seen) == len(CASE_IDS)
    # the first golden: nothing frozen yet, the interpreter's own threshold (not this process's:
    # a whole-tree run has its own eval session open here, with the raised threshold)
    before = seen[0]
    assert before[0] == 0 and before[1] < GC_YOUNG_THRESHOLD, line
    assert all(n > 0 and young == GC_YOUNG_THRESHOLD for n, young in seen[1:]), line
    assert after == before, line
