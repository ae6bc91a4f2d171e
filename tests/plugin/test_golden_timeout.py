"""The tutorial's own agent (docs/gate-your-own-agent.md), made to hang on one golden: with
``evals_golden_timeout`` that golden fails by name and the rest of the run goes on (a real pytest
run in a subprocess)."""

from __future__ import annotations

import time

from test_own_agent import readme_files, run_pytest


def test_a_hanging_agent_fails_one_named_golden_and_the_run_goes_on(tmp_path):
    for path, body in readme_files().items():
        if path == "helpdesk.py":  # the fridge query hangs, as an agent stuck on a dead server
            body = body.replace(
                "            if device is None:",
                "            if device == 'fridge':\n"
                "                import time\n"
                "                time.sleep(120)\n"
                "            if device is None:",
            )
        if path == "pyproject.toml":
            body += 'evals_golden_timeout = "2"\n'
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)

    started = time.monotonic()
    done, report = run_pytest(tmp_path)
    took = time.monotonic() - started

    text = done.stdout + done.stderr
    assert took < 60, text
    assert done.returncode == 1, text
    assert "golden fridge-manual did not finish within 2 s" in text
    assert "Traceback" not in text.split("short test summary")[-1]
    assert report["errored"] == ["fridge-manual"], report["errored"]
    assert report["gate"] == "fail"
    passed = {c["id"] for c in report["cases"] if c.get("passed")}
    assert "kettle-manual" in passed  # the other goldens ran and were judged
