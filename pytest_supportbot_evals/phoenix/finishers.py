"""What happens at the end of a session, each on its own: the baseline, the JSON report, the
Markdown table, GitHub's job summary and the Phoenix delivery.

One failing never stops the others: each says in one line what went wrong. A requested output
that could not be written fails the run (``EvalSession.output_errors``); Phoenix being down does
not (its deliveries wait in the spool).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pytest_supportbot_evals.recording import secrets
from pytest_supportbot_evals.recording.secrets import SecretFoundError
from pytest_supportbot_evals.reporting import report
from pytest_supportbot_evals.run.session import EvalSession
from pytest_supportbot_evals.verdict import baseline
from pytest_supportbot_evals.verdict.analysis import fingerprint


def finish(session: EvalSession) -> None:
    """Run every finisher; collect notes and output errors on the session."""
    _guarded(session, "baseline", lambda: update_baseline(session))
    _guarded(session, "outputs", lambda: write_outputs(session))
    _guarded(session, "Phoenix delivery", lambda: deliver_to_phoenix(session), output=False)


def _guarded(
    session: EvalSession, what: str, step: Callable[[], str | None], output: bool = True
) -> None:
    try:
        note = step()
    except Exception as exc:  # one line, never a traceback that loses the other outputs
        line = f"{what} failed: {type(exc).__name__}: {exc}"
        (session.output_errors if output else session.notes).append(line)
        return
    if note:
        session.notes.append(note)


def _write(session: EvalSession, path: Path, text: str, what: str) -> bool:
    """Write one output; a failure is one clear line in ``output_errors`` (and False)."""
    try:
        report.write_text(path, text)
    except (SecretFoundError, OSError) as exc:
        session.output_errors.append(_not_written(what, path, exc))
        return False
    return True


def _not_written(what: str, path: Path | str, exc: Exception) -> str:
    if isinstance(exc, SecretFoundError):
        lines = str(exc).splitlines()
        first = lines[1].strip() if len(lines) > 1 else str(exc)
        return (
            f"{what} {path} NOT written: it would contain a secret ({first}); nothing was written"
        )
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return f"{what} {path} NOT written: {reason}; check the path and free space."


def update_baseline(session: EvalSession) -> str | None:
    """Write this run as the baseline (``--evals-update-baseline``); say what happened."""
    config = session.config
    path = config.baseline_path
    if not config.update_baseline:
        return None
    if path is None:
        return "no baseline written: set --evals-baseline or ini evals_baseline"
    analysis = session.analysis()
    if analysis.gate.errored or analysis.gate.missing:
        session.output_errors.append(
            f"baseline {path} NOT updated: some golden runs were not evaluated"
        )
        return None
    data = baseline.build(
        session.results, fingerprint(session.meta(), session.goldens), session.case_hashes
    )
    written = _write(session, path, report.json_text(data), "baseline")
    return f"baseline written: {path}" if written else None


def write_outputs(session: EvalSession) -> None:
    """The JSON report, the Markdown table, and GitHub's job summary, as configured."""
    config, analysis = session.config, session.analysis()
    if config.report_path is not None:
        data = report.build_report(
            analysis,
            session.results,
            session.meta(),
            session.coverage.to_dict(),
            session.case_hashes,
        )
        _write(session, config.report_path, report.json_text(data), "report")
    markdown = report.markdown(analysis, session.results)
    if config.markdown_path is not None:
        _write(session, config.markdown_path, markdown, "Markdown summary")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            secrets.ensure_clean(markdown, summary)
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(markdown)
        except (OSError, SecretFoundError) as exc:
            session.output_errors.append(_not_written("GITHUB_STEP_SUMMARY", summary, exc))


def deliver_to_phoenix(session: EvalSession) -> str | None:
    """Queue every span and verdict in the spool, then flush it; say what is pending."""
    config = session.config
    endpoint = config.phoenix_endpoint
    if not endpoint or not session.results:
        return None
    from phoenix_delivery.budget import DELIVERY_BUDGET
    from phoenix_delivery.phoenix_sink import PhoenixSink
    from pytest_supportbot_evals.phoenix._annotations import annotations, document_annotations

    settings = config.settings
    sink = PhoenixSink(
        endpoint,
        config.spool_path,
        api_key=settings.phoenix_api_key,
        project=settings.phoenix_project,
        budget=settings.phoenix_budget or DELIVERY_BUDGET,
    )
    meta = session.meta()
    note = sink.deliver_run(
        [span for r in session.results for span in r.spans],
        session.encoded_spans,
        annotations(session, meta),
        document_annotations(session, meta),
        config.registry.annotation_configs,  # the built-ins' come from the JSON
        deliver=None,  # the next run sends what is left
        budget="EVALS_PHOENIX_BUDGET",
    )
    if config.experiment_dataset:
        note += "\n" + log_experiment(session)
    return note


def log_experiment(session: EvalSession) -> str:
    """Log the run as a Phoenix experiment; a failure is a note, never a lost gate."""
    import httpx
    from phoenix.client import Client

    from evals_core.tracing import base_url
    from phoenix_delivery import budget
    from phoenix_delivery.phoenix_payloads import experiment_metadata
    from pytest_supportbot_evals.phoenix._annotations import judge_trust
    from pytest_supportbot_evals.phoenix.datasets import log_experiment as log

    config = session.config
    dataset = str(config.experiment_dataset)
    name, metadata = experiment_metadata(session.meta(), session.verdict)
    http = budget.client(  # every wait within the delivery budget
        budget.Deadline(config.settings.phoenix_budget or budget.DELIVERY_BUDGET),
        api_key=config.settings.phoenix_api_key,
        base_url=base_url(str(config.phoenix_endpoint)),
        timeout=30,
    )
    client = Client(http_client=http)  # one HTTP client for phoenix-client and our REST calls
    try:
        url = log(
            client,
            http,
            dataset,
            session.results,
            experiment_name=name,
            metadata=metadata,
            trust=judge_trust(session.analysis()),
        )
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return f"experiment on dataset {dataset!r} not logged: {type(exc).__name__}: {exc}"
    return f"experiment logged on dataset {dataset!r}: {url}"
