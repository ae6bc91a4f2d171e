"""What a verdict could detect, lost measurements and misses, as users meet them: a real pytest
run's terminal summary, JSON report, Markdown table and JUnit properties."""

import json

import pytest
from plugin_helpers import output_of


def write_baseline(project):
    """The project's baseline from its own replayed run; the path is set in the ini."""
    path = project.path / "baseline.json"
    project.write_ini(evals_baseline="baseline.json")
    done = project.run("--evals-update-baseline")
    assert path.exists(), output_of(done)
    return path


def test_every_comparison_shows_what_it_could_detect_and_a_lost_measurement_is_a_drop(
    eval_project,
):
    path = write_baseline(eval_project)
    data = json.loads(path.read_text())
    # The baseline says the order golden had a judged ranking (as if it had once been routed to
    # retrieval); this run measures none for it: a lost measurement.
    judged = data["outcomes"]["evals:judged_hit_rate"]
    assert "tutorial-order-shipped" not in judged and judged
    judged["tutorial-order-shipped"] = 1.0
    path.write_text(json.dumps(data))
    files = {n: eval_project.path / n for n in ("r.json", "r.md", "junit.xml")}

    result = eval_project.run(
        f"--evals-report={files['r.json']}",
        f"--evals-markdown={files['r.md']}",
        f"--junitxml={files['junit.xml']}",
    )

    report = json.loads(files["r.json"].read_text())
    rows = {c["evaluator"]: c for c in report["comparisons"]}
    assert rows["judged_hit_rate"]["lost"] == ["tutorial-order-shipped"]
    assert rows["judged_hit_rate"]["now"]["total"] == len(judged)  # counted, as a failure
    for row in rows.values():  # four goldens: no evaluator has five to flip
        assert row["detectable"]["goldens"] is None, row
        assert row["detectable"]["paired"] <= 4
    assert rows["tool_result"]["detectable"]["paired"] == 2
    out = output_of(result)
    lines = [line for line in out.splitlines() if line.startswith("judged_hit_rate ")]
    assert len(lines) == 1 and "lost 1" in lines[0] and lines[0].endswith("none"), lines
    assert "detects" in out
    assert "the baseline comparison cannot detect even a total breakage of: " in out
    assert "tool_result (2 paired, 2 passing in the baseline)" in out
    assert "lost (measured in the baseline, not now) ['tutorial-order-shipped']" in out
    markdown = files["r.md"].read_text()
    assert "| detects |" in markdown
    assert "- judged_hit_rate lost its measurement: tutorial-order-shipped" in markdown
    junit = files["junit.xml"].read_text()
    assert 'name="evals.judged_hit_rate.lost" value="1"' in junit
    assert 'name="evals.tool_result.min_detectable" value="none"' in junit
    assert 'name="evals.tool_result.paired" value="2"' in junit


def test_misses_come_first_once_per_change_and_partial_figures_say_so(eval_project, clean_env):
    # an impossible category bar: a threshold reason whatever the recorded model labels
    eval_project.write_ini(thresholds=["tool_result=1.0", "label=1.5"])
    prompts = eval_project.path / "prompts"
    prompts.mkdir()
    from supportbot import prompts as packaged

    text = packaged.prompt_path("faq_answer").read_text()
    (prompts / "faq_answer.txt").write_text(text + "Be brief.\n")
    clean_env.setenv("SUPPORTBOT_PROMPTS_DIR", str(prompts))

    result, report = eval_project.run_with_report()

    # the goldens routed to a FAQ answer miss (its prompt changed); the order goldens replay
    missed = sorted(c["id"] for c in report["cases"] if c["stale_cassette"])
    assert len(missed) >= 2, report["cases"]
    n, over = len(missed), f" over {4 - len(missed)} of 4 selected golden runs ({len(missed)} "
    first = report["reasons"][0]
    assert first.startswith(f"{n} golden run(s) could not be evaluated: {missed[0]}, ")
    assert f"re-record them with: evals record {' '.join(missed)})" in first
    assert report["reasons"][1].startswith("label pass rate ")
    assert report["reasons"][1].endswith(over + "not evaluated)")
    out = output_of(result)
    # the first failing test, and the summary's group; pytest's own short summary repeats whole
    # failure messages when it runs on CI (the CI variable), so count above it
    above = out.split("short test summary info")[0]
    assert above.count("+  Be brief.") == 2
    assert f"Same change as in golden {missed[0]!r}" in out
    assert "cassette misses: the faq_answer request (prompt file " in out
    assert f"changed the same way in {n} golden run(s): {', '.join(missed)}" in out
    (tokens,) = [line for line in out.splitlines() if line.startswith("tokens: ")]
    assert tokens.endswith(over + "not evaluated)")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
