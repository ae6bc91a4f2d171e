"""The gate as a test of its own, so CI sees the verdict where it looks: JUnit XML, the
terminal's counts and the exit status.

At the end of a session the gate is reported through pytest's own hooks as one test,
``evals::gate``: failed, with the reasons as its message, when the gate fails; passed
otherwise. Its JUnit properties carry the per-evaluator figures. Every reporter (terminal,
``--junitxml``, pytest-xdist's controller, other plugins) sees it like any other test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_supportbot_evals.run.results import qualified
from pytest_supportbot_evals.run.session import EvalSession

GATE_FILE = "evals"
GATE_NODEID = f"{GATE_FILE}::gate"


def properties(eval_session: EvalSession) -> list[tuple[str, object]]:
    """``evals.gate`` and, per evaluator, its figures (JUnit ``<property>`` elements)."""
    analysis = eval_session.analysis()
    selected, planned = analysis.selection
    props: list[tuple[str, object]] = [
        ("evals.gate", eval_session.verdict),
        ("evals.runs.planned", planned),
        ("evals.runs.selected", selected),
        ("evals.runs.missing", len(analysis.gate.missing)),
        ("evals.runs.errored", len(analysis.gate.errored)),
    ]
    compared = {(c.suite, c.evaluator): c for c in analysis.comparisons}
    for stat in analysis.gate.stats:
        prefix = f"evals.{qualified(stat.suite, stat.evaluator)}"
        rate = stat.pass_rate
        props += [
            (f"{prefix}.passed", stat.passed),
            (f"{prefix}.total", stat.total),
            (f"{prefix}.pass_rate", "" if rate is None else round(rate, 4)),
            (f"{prefix}.threshold", "" if stat.threshold is None else stat.threshold),
            (f"{prefix}.status", stat.status + (" (advisory)" if stat.advisory else "")),
        ]
        c = compared.get((stat.suite, stat.evaluator))
        if c is not None:
            props.append((f"{prefix}.baseline", c.verdict))
            props.append((f"{prefix}.lost", len(c.lost)))
        if c is not None and c.detectable is not None:
            mdr = c.detectable
            props += [
                (f"{prefix}.paired", mdr.paired),
                (f"{prefix}.min_detectable", "none" if mdr.goldens is None else mdr.goldens),
                (
                    f"{prefix}.min_detectable_rate",
                    "" if mdr.pass_rate is None else round(mdr.pass_rate, 4),
                ),
            ]
    for suite, row in analysis.tokens.items():
        prefix = f"evals.{qualified(suite, 'tokens')}"
        for who in ("agent", "judge"):
            r = row[who]
            props += [
                (f"{prefix}.{who}.prompt", r["prompt"]),
                (f"{prefix}.{who}.completion", r["completion"]),
                (f"{prefix}.{who}.calls", r["calls"]),
                (f"{prefix}.{who}.cost_usd", "" if r["cost_usd"] is None else r["cost_usd"]),
            ]
    return props


def report_gate(session: pytest.Session, eval_session: EvalSession) -> None:
    """Report the gate as the test ``evals::gate`` through pytest's hooks."""
    failed = eval_session.verdict == "fail"
    reasons = [*eval_session.output_errors, *eval_session.analysis().reasons()]
    location = (GATE_FILE, None, "evals gate")
    hook: Any = session.config.hook
    # Counted as collected, so progress stays at 100 % when the gate is reported; on a line of
    # its own (the previous file's line already ends in its progress).
    session.testscollected += 1
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and hasattr(terminal, "currentfspath"):
        terminal.currentfspath = None
    hook.pytest_runtest_logstart(nodeid=GATE_NODEID, location=location)
    # Like a real test: setup, call, teardown (JUnit writes the properties at teardown).
    for when, outcome, longrepr, props in (
        ("setup", "passed", None, []),
        (
            "call",
            "failed" if failed else "passed",
            "\n".join(reasons or ["evals gate: FAIL"]) if failed else None,
            [],
        ),
        ("teardown", "passed", None, properties(eval_session)),
    ):
        report = pytest.TestReport(
            nodeid=GATE_NODEID,
            location=location,
            keywords={"evals_gate": 1},
            outcome=outcome,  # type: ignore[arg-type]
            longrepr=longrepr,
            when=when,  # type: ignore[arg-type]
            sections=[],
            duration=0.0,
            user_properties=props,
        )
        hook.pytest_runtest_logreport(report=report)
    hook.pytest_runtest_logfinish(nodeid=GATE_NODEID, location=location)


def scrub_written(config: pytest.Config) -> str | None:
    """The JUnit file pytest has just written (``--junitxml``) is scanned like every file of the
    run: a secret in it (a key in an agent's error message) is redacted in place, or, when a
    shape survives redaction (encoded), the file is replaced by a stub that says why. Returns
    the line to print, or None when the file is clean."""
    from evals_core.files import write_atomic
    from pytest_supportbot_evals.recording import secrets

    xmlpath = getattr(config.option, "xmlpath", None)
    path = Path(xmlpath) if xmlpath else None
    if path is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    findings = secrets.scan_text(text, str(path))
    if not findings:
        return None
    clean = secrets.redact(text).replace(secrets.REDACTED, "[REDACTED]")  # still valid XML
    what = "redacted in place"
    if secrets.scan_text(clean, str(path)):
        clean = (
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><!-- evals removed '
            "this report: it held a secret it could not redact; see the terminal --></testsuites>\n"
        )
        what = "replaced by a stub (a secret could not be redacted)"
    write_atomic(path, clean)
    return f"JUnit report {path} held a secret ({findings[0]}): {what}."
