"""Issue 19, one vocabulary: a team's project (outside the repo, its own agent, span names and
labels) meets the word ``supportbot`` nowhere (terminal, JSON report, JUnit XML, the Phoenix
annotations it spools); the old ``supportbot_*`` spellings still work, with one deprecation
warning each; both spellings with different values are a usage error."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_own_agent import readme_files

OLD_SPELLINGS = {
    "evals_agent": "supportbot_agent",
    "evals_goldens": "supportbot_goldens",
    "evals_cassettes": "supportbot_cassettes",
    "evals_tool_spans": "supportbot_tool_spans",
    "evals_thresholds": "supportbot_thresholds",
    "evals_baseline": "supportbot_baseline",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for path, body in readme_files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)
    return tmp_path


def pytest_run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project), **env},
    )


def spooled_text(spool: Path) -> str:
    """The spool's records with their payloads decoded (what would reach Phoenix)."""
    texts = []
    for line in spool.read_text().splitlines():
        record = json.loads(line)
        texts.append(line)
        payload = record.get("payload")
        if isinstance(payload, str):
            with contextlib.suppress(ValueError):
                texts.append(base64.b64decode(payload).decode("utf-8", "replace"))
    return "\n".join(texts)


def test_a_teams_project_meets_the_word_supportbot_nowhere(project):
    # a Phoenix that is not there: the annotations the plugin would send are spooled, readable
    done = pytest_run(
        project,
        "--evals-report=report.json",
        "--junitxml=junit.xml",
        "--evals-phoenix=http://127.0.0.1:9",
        "-rA",
    )
    out = done.stdout + done.stderr
    assert "evals gate: PASS" in out, out
    assert "evals::gate" in (project / "junit.xml").read_text() or "gate" in out
    report = (project / "report.json").read_text()
    junit = (project / "junit.xml").read_text()
    assert 'name="evals.gate"' in junit
    spool = project / ".evals" / "phoenix-spool.jsonl"
    assert spool.is_file(), out
    annotations = spooled_text(spool)
    assert "polite" in annotations  # the team's evaluator's verdicts are there
    # pytest's header included: it lists the plugin's distribution by its neutral name
    assert any(line.startswith("plugins: ") and "evals-gate" in line for line in out.splitlines())
    from phoenix_delivery.annotation_configs import configs

    for where, text in (
        # the annotation configs every delivery creates in the team's Phoenix project
        ("annotation configs", json.dumps(configs())),
        ("terminal", out),
        ("JSON report", report),
        ("JUnit XML", junit),
        ("spooled annotations", annotations),
    ):
        found = re.findall(r".{0,60}supportbot.{0,40}", text, flags=re.IGNORECASE)
        assert not found, f"{where}: {found[:3]}"


def test_the_old_spellings_still_work_with_one_warning_each(project):
    ini = project / "pyproject.toml"
    text = ini.read_text()
    for new, old in OLD_SPELLINGS.items():
        text = text.replace(f"{new} =", f"{old} =")
    ini.write_text(text)
    conftest = project / "tests" / "conftest.py"
    conftest.write_text(
        conftest.read_text().replace(
            "pytest_evals_evaluators", "pytest_supportbot_evals_evaluators"
        )
    )
    test = project / "tests" / "test_desk.py"
    body = test.read_text()
    assert "evals_results" in body and "evals_assert" in body
    test.write_text(body.replace("evals_", "supportbot_"))
    done = pytest_run(
        project, "--supportbot-report=report.json", "-W", "default", SUPPORTBOT_SEED="7"
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "evals gate: PASS" in out
    assert json.loads((project / "report.json").read_text())["gate"] == "pass"
    for new, old in OLD_SPELLINGS.items():
        assert out.count(f"{old} is deprecated; use {new}.") == 1, (old, out)
    assert out.count("--supportbot-report is deprecated; use --evals-report.") == 1
    for fixture in ("supportbot_results", "supportbot_assert"):
        assert out.count(f"fixture {fixture} is deprecated") == 1, out
    assert out.count("hook pytest_supportbot_evals_evaluators is deprecated") == 1, out
    assert out.count("variable SUPPORTBOT_SEED is deprecated; use EVALS_SEED.") == 1, out


def test_both_spellings_with_different_values_are_a_usage_error(project):
    done = pytest_run(project, "--evals-report=a.json", "--supportbot-report=b.json")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--evals-report='a.json' and --supportbot-report='b.json' disagree" in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1
    ini = project / "pyproject.toml"
    ini.write_text(ini.read_text() + 'supportbot_tool_spans = "other*"\n')
    done = pytest_run(project)
    assert done.returncode == 4, done.stdout + done.stderr
    assert (
        "ini evals_tool_spans='findManual' and supportbot_tool_spans='other*' disagree"
        in done.stderr
    )


def test_a_hint_names_the_spelling_the_user_used(project):
    done = pytest_run(project, "--supportbot-threshold=politeness=0.5")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--supportbot-threshold: unknown evaluator 'politeness'" in done.stderr
    done = pytest_run(project, "--evals-threshold=politeness=0.5")
    assert "--evals-threshold: unknown evaluator 'politeness'" in done.stderr


def test_a_tool_that_must_not_be_called_and_a_given_history(project):
    agent = project / "helpdesk.py"
    text = agent.read_text().replace(
        "def agent(query, *, seed=None):", "def agent(query, *, seed=None, history=None):"
    )
    text = text.replace(
        "            if device is None:\n",
        "            if history:\n"
        '                span.set_attribute("given.history", repr(history))\n'
        '                query = history[0]["content"] + " " + query\n'
        "                device = next((d for d in MANUALS if d in query.lower()), None)\n"
        "            if device is None:\n",
    )
    agent.write_text(text)
    goldens = project / "tests" / "goldens" / "desk.yaml"
    goldens.write_text(
        goldens.read_text() + "  - id: chat-no-tool\n    query: Hello there\n    label: chat\n"
        "    expect: {tool_result: not_called}\n"
        "  - id: kettle-from-history\n    query: And how often?\n"
        "    history:\n      - {role: user, content: 'My kettle needs cleaning.'}\n"
        "      - {role: assistant, content: 'Which kettle is it?'}\n"
        "    label: manual\n    expect: {tool_result: success}\n"
    )
    done = pytest_run(project, "--evals-report=report.json")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    cases = {c["id"]: c for c in json.loads((project / "report.json").read_text())["cases"]}
    checks = {c["evaluator"]: c["actual"] for c in cases["chat-no-tool"]["checks"]}
    assert checks["tool_result"] == "not_called"
    checks = {c["evaluator"]: c["actual"] for c in cases["kettle-from-history"]["checks"]}
    assert checks["tool_result"] == "success"  # the agent found the kettle in the history
    # the registry validates the label; an agent that takes no history is told why
    goldens.write_text(goldens.read_text().replace("not_called}", "not_calld}"))
    done = pytest_run(project)
    assert done.returncode == 4 and "tool_result is 'not_calld'" in done.stderr
    goldens.write_text(goldens.read_text().replace("not_calld}", "not_called}"))
    agent.write_text(text.replace(", history=None):", "):"))
    done = pytest_run(project, "--evals-report=report.json")
    cases = {c["id"]: c for c in json.loads((project / "report.json").read_text())["cases"]}
    assert "The agent does not take history=" in cases["kettle-from-history"]["error"]


def test_a_tool_span_setting_that_matches_no_span_is_a_named_failure(project):
    ini = project / "pyproject.toml"
    ini.write_text(ini.read_text().replace('"findManual"', '"findManuals"'))
    done = pytest_run(project)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "evals_tool_spans 'findManuals' matched no span in 3 runs" in out


def test_evals_record_works_for_a_teams_agent_without_the_reference_agents_model(project):
    # the plugin alone, as a team installs it: SupportBot's dev services (its local model) are
    # not importable, and no OPENAI_* variable is set; the agent calls no LLM
    cli = (
        "import sys; sys.modules['devservices'] = None\n"
        "from pytest_supportbot_evals.cli.main import main\n"
        "sys.exit(main(['record', '--mode', 'once']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", cli],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project)},
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "no local model is installed: recording with the agent's own settings" in out
    assert "recorded 3 case run(s)" in out, out
    assert "supportbot" not in out.lower()


def test_help_lists_the_neutral_flags_only(project):
    done = pytest_run(project, "--help")
    assert "--evals-report=PATH" in done.stdout
    flags = [line for line in done.stdout.splitlines() if line.strip().startswith("--supportbot")]
    assert flags == []  # the deprecated spellings still work (tested above), unlisted
