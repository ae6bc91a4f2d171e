"""docs/gate-your-own-agent.md followed literally: its files are taken from the page itself,
written to a fresh project, and run with pytest in a subprocess (the installed plugin, as a
team meets it). The agent shares no name with SupportBot: its own labels, its own TOOL span,
its own code evaluator. ``examples/shopbot`` (recorded from the local model) is run the same way,
from a copy outside the repo."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "gate-your-own-agent.md"


def readme_files() -> dict[str, str]:
    """``{path: content}`` of every block of the tutorial introduced by a `` `path`: `` line."""
    section = TUTORIAL.read_text()
    files, intro, fence = {}, "", None
    for line in section.split("\n"):
        if fence is not None:  # inside a block
            if line.startswith("```"):
                named = re.match(r"`([\w./-]+)`", intro)
                if named:
                    files[named.group(1)] = "\n".join(fence) + "\n"
                fence, intro = None, ""
            else:
                fence.append(line)
        elif line.startswith("```"):
            fence = []
        elif line.strip() and not intro:
            intro = line  # the first line of the paragraph before a block names its file
        elif not line.strip() and intro and not intro.startswith("`"):
            intro = ""
    return files


def run_pytest(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = project / "report.json"
    report.unlink(missing_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--evals-report={report}",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project)},
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return done, data


@pytest.fixture
def helpdesk(tmp_path) -> Path:
    files = readme_files()
    assert set(files) == {
        "pyproject.toml",
        "helpdesk.py",
        "tests/conftest.py",
        "tests/goldens/desk.yaml",
        "tests/test_desk.py",
    }
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)
    return tmp_path


def test_the_readme_agent_is_gated_with_its_own_labels_tool_span_and_evaluator(helpdesk):
    done, report = run_pytest(helpdesk, "--junitxml=junit.xml")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "4 passed" in out and "gate: PASS" in out, out  # 3 goldens and the gate
    cases = {c["id"]: c for c in report["cases"]}
    assert set(cases) == {"kettle-manual", "fridge-manual", "small-talk"}
    checks = {(i, c["evaluator"]): c["actual"] for i, case in cases.items() for c in case["checks"]}
    assert checks[("kettle-manual", "tool_result")] == "success"
    assert checks[("fridge-manual", "tool_result")] == "error"  # its findManual span: ERROR
    assert checks[("small-talk", "label")] == "chat"
    assert checks[("kettle-manual", "polite")] == "yes"
    # the findManual TOOL span was judged; the code evaluator annotated the agent span
    judged = {v["judge"] for v in cases["fridge-manual"]["verdicts"]}
    assert judged == {"tool_result", "polite", "answer_grounded"}
    polite = next(v for v in cases["kettle-manual"]["verdicts"] if v["judge"] == "polite")
    assert polite["span_id"] == cases["kettle-manual"]["span_id"]
    assert report["evaluators"]["polite"]["passed"] == 2
    junit = (helpdesk / "junit.xml").read_text()
    assert 'name="evals.tool_result" value="error"' in junit
    assert 'name="evals.polite.pass_rate" value="1.0"' in junit


def test_a_drop_in_the_teams_own_evaluator_fails_the_gate(helpdesk):
    agent = helpdesk / "helpdesk.py"
    agent.write_text(agent.read_text().replace('"Please:', '"Do:').replace('"Please,', '"So,'))
    done, report = run_pytest(helpdesk)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "polite pass rate 0.0% (0/2) is below its threshold 100.0%" in out
    assert report["gate"] == "fail"


def test_the_answer_checks_judge_a_teams_agent_from_its_own_spans(helpdesk):
    goldens = helpdesk / "tests" / "goldens" / "desk.yaml"
    pinned = "    answer_contains: [descale, VINEGAR]\n    answer_matches: '^please\\b'\n"
    text = goldens.read_text()
    goldens.write_text(text.replace("  - id: fridge-manual", pinned + "  - id: fridge-manual"))
    done, report = run_pytest(helpdesk)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {(case["id"], c["evaluator"]): c for case in report["cases"] for c in case["checks"]}
    kettle = checks[("kettle-manual", "answer_grounded")]
    assert (kettle["actual"], kettle["detail"]) == (
        "grounded",
        "the answer states findManual's output 'Descale monthly with vinegar.'",
    )
    fridge = checks[("fridge-manual", "answer_grounded")]  # findManual failed; the answer says so
    assert fridge["actual"] == "grounded" and "it failed (error: no manual)" in fridge["detail"]
    assert ("small-talk", "answer_grounded") not in checks  # no TOOL span: nothing to check
    assert checks[("kettle-manual", "answer_contains")]["actual"] == "contains"
    assert checks[("kettle-manual", "answer_matches")]["actual"] == "matches"
    assert report["evaluators"]["answer_grounded"]["total"] == 2
    # the agent stops using what its tool found: the answer checks miss, and a threshold gates it
    agent = helpdesk / "helpdesk.py"
    agent.write_text(agent.read_text().replace('f"Please: {manual}"', '"Please: use soap."'))
    project = helpdesk / "pyproject.toml"
    project.write_text(
        project.read_text().replace('"polite=1.0"', '"polite=1.0", "answer_grounded=1.0"')
    )
    done, report = run_pytest(helpdesk)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "answer_grounded pass rate 50.0% (1/2) is below its threshold 100.0%" in out
    (kettle,) = [c for c in report["cases"] if c["id"] == "kettle-manual"]
    found = {c["evaluator"]: (c["actual"], c["detail"]) for c in kettle["checks"]}
    assert found["answer_grounded"][0] == "unsupported"
    assert (
        "findManual returned (output 'Descale monthly with vinegar.')"
        in found["answer_grounded"][1]
    )
    assert found["answer_contains"] == ("missing", "the answer lacks 'descale', 'VINEGAR'")
    assert found["answer_matches"][0] == "matches"


def test_a_label_outside_the_agents_vocabulary_is_a_usage_error(helpdesk):
    goldens = helpdesk / "tests" / "goldens" / "desk.yaml"
    goldens.write_text(goldens.read_text().replace("label: chat", "label: order_status"))
    done, _ = run_pytest(helpdesk)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "desk.yaml:11: case 'small-talk': field 'label' is 'order_status'" in done.stderr
    assert "use one of ('manual', 'chat')" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_shopbot_example_replays_and_gates_outside_the_repo(tmp_path):
    project = tmp_path / "shopbot"
    shutil.copytree(
        ROOT / "examples" / "shopbot",
        project,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "report.json"),
    )
    done, report = run_pytest(project)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert report["gate"] == "pass", out
    assert report["coverage"]["evaluated_runs"] == report["coverage"]["planned_runs"] == 14
    by_id = {c["id"]: c for c in report["cases"]}
    unknown = {c["evaluator"]: c["actual"] for c in by_id["warranty-unknown-serial"]["checks"]}
    assert unknown["tool_result"] == "error"  # its checkWarranty TOOL span, judged
    assert set(report["evaluators"]) >= {"answer_on_topic", "mentions_serial", "tool_result"}
    # the team's LLM evaluator judged every turn's agent span (from the recorded judge calls)
    assert all(
        any(v["judge"] == "answer_on_topic" and v["label"] for v in c["verdicts"])
        for c in report["cases"]
    )
    done, report = run_pytest(project, "--evals-threshold=mentions_serial=0.9")
    assert done.returncode == 1
    assert "mentions_serial pass rate" in done.stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (
                "pyproject.toml",
                'evals_agent = "helpdesk:make_agent"',
                'evals_agent = "nodesk:make"',
            ),
            "ini evals_agent='nodesk:make': cannot import 'nodesk'",
        ),
        (
            ("pyproject.toml", '"polite=1.0"', '"politeness=1.0"'),
            "unknown evaluator 'politeness' in 'politeness=1.0'; use one of ['label', ",
        ),
        (
            (
                "tests/conftest.py",
                '("yes", "no"), polite)',
                '("yes", "no"), polite),\n        code_evaluator("polite", ("a", "b"), polite)',
            ),
            "evaluator 'polite' is registered twice",
        ),
        (
            ("tests/goldens/desk.yaml", 'polite: "yes"}', 'polite: "maybe"}'),
            "polite is 'maybe'; use one of ('yes', 'no')",
        ),
        (
            ("pyproject.toml", "evals_agent =", "evals_agnet ="),
            "ini evals_agnet is not a setting of the evals plugin; did you mean evals_agent?",
        ),
        (
            ("pyproject.toml", 'evals_agent = "helpdesk:make_agent"\n', ""),
            "set, but no evals_agent: the plugin would run SupportBot",
        ),
        (
            ("pyproject.toml", '"helpdesk:make_agent"', '"helpdesk:make_agnet"'),
            "ini evals_agent='helpdesk:make_agnet': helpdesk has no callable 'make_agnet'",
        ),
        (
            ("helpdesk.py", "MANUALS = {", "raise RuntimeError('no config')\nMANUALS = {"),
            "importing 'helpdesk' failed: RuntimeError: no config",
        ),
        (
            ("helpdesk.py", "MANUALS = {", "import nonexistent_dep\nMANUALS = {"),
            "importing 'helpdesk' failed: it imports 'nonexistent_dep', which is not installed",
        ),
        (
            (
                "pyproject.toml",
                "evals_tool_spans =",
                'evals_labels = ["manual", 2]\nevals_tool_spans =',
            ),
            "ini evals_labels = ['manual', 2]: list the labels as strings without spaces",
        ),
        (
            ("pyproject.toml", "evals_tool_spans =", "eval_tool_spans ="),
            "ini eval_tool_spans is not a setting of pytest or of the evals plugin; did you mean "
            "evals_tool_spans?",
        ),
        (
            (
                "tests/conftest.py",
                "def polite(run):",
                "import pytest\n\n\n@pytest.fixture(scope='session')\ndef supportbot_bot():\n"
                "    return object()\n\n\ndef polite(run):",
            ),
            "fixture supportbot_bot is overridden (tests), but it no longer plugs an agent in",
        ),
    ],
    ids=[
        "agent-path",
        "threshold-name",
        "duplicate-evaluator",
        "evaluator-label",
        "misspelt-key",
        "no-agent",
        "agent-attribute",
        "agent-import-fails",
        "agent-dependency-missing",
        "labels-list",
        "prefix-typo",
        "old-bot-fixture",
    ],
)
def test_a_bad_agent_setting_is_one_usage_error(helpdesk, edit, message):
    path, old, new = edit
    text = (helpdesk / path).read_text()
    assert old in text
    (helpdesk / path).write_text(text.replace(old, new, 1))
    done, _ = run_pytest(helpdesk)
    assert done.returncode == 4, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1, done.stderr


def test_evals_labels_may_be_a_toml_list(helpdesk):
    project = helpdesk / "pyproject.toml"
    text = project.read_text().replace(
        "evals_tool_spans =", 'evals_labels = ["manual", "chat"]\nevals_tool_spans ='
    )
    project.write_text(text)
    # a project that turns warnings into errors runs too: pytest warns (PytestRemovedIn10Warning)
    # when a list reaches a string-typed ini key
    done, report = run_pytest(helpdesk, "-W", "error")
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["gate"] == "pass"


def test_neutral_and_supportbot_variables_must_agree(helpdesk):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=helpdesk,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "EVALS_SEED": "1", "SUPPORTBOT_SEED": "2"},
    )
    assert done.returncode == 4
    assert "EVALS_SEED='1' and SUPPORTBOT_SEED='2' disagree; set only one." in done.stderr


def test_update_baseline_without_a_baseline_path_is_a_usage_error(helpdesk):
    project = helpdesk / "pyproject.toml"
    project.write_text(project.read_text().replace("evals_baseline =", "# evals_baseline ="))
    done, _ = run_pytest(helpdesk, "--evals-update-baseline")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--evals-update-baseline writes the baseline, but none is set" in done.stderr
    project.write_text(project.read_text().replace("# evals_baseline =", "evals_baseline ="))
    done, _ = run_pytest(helpdesk, "--evals-update-baseline")
    assert done.returncode == 0 and (helpdesk / "tests" / "baseline.json").is_file()


@pytest.mark.parametrize("limit", ["evals_max_token_growth", "evals_max_completion_growth"])
def test_a_token_limit_without_a_baseline_is_a_usage_error(helpdesk, limit):
    project = helpdesk / "pyproject.toml"
    text = project.read_text().replace("evals_baseline =", "# evals_baseline =")
    project.write_text(text + f'{limit} = "0.1"\n')
    done, _ = run_pytest(helpdesk)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"{limit} is set, but no baseline to compare tokens with" in done.stderr
