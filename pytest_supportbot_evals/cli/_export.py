"""``evals export-goldens``: annotated traces in Phoenix to new golden cases (and a
dataset).

Registered on the ``evals`` command line (the agent package never imports the plugin);
the work is done by ``export`` and ``phoenix_datasets``. Imports nothing heavy until it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_FILTER = "user_feedback=thumbs-down"
DEFAULT_OUT = Path("tests/goldens/exported.yaml")


def add_export_parser(sub: Any) -> None:
    export = sub.add_parser(
        "export-goldens",
        help="turn annotated traces in Phoenix (e.g. thumbs-down) into new golden cases",
        description="Read a Phoenix project's agent runs, keep those with a matching "
        "annotation, and append them to a golden file as cases to review and record.",
    )
    export.add_argument(
        "--phoenix", metavar="URL", help="Phoenix URL (default: PHOENIX_COLLECTOR_ENDPOINT)"
    )
    export.add_argument(
        "--project",
        help="Phoenix project (default: as the plugin's runs trace to: ini "
        "evals_phoenix_project, PHOENIX_PROJECT_NAME, or the module of ini evals_agent)",
    )
    export.add_argument(
        "--where",
        action="append",
        metavar="NAME=LABEL",
        help=f"annotation to select on, repeatable, any may match (default: {DEFAULT_FILTER}); "
        "e.g. retrieval_relevance=irrelevant, tool_result=error",
    )
    export.add_argument("--since", help="only runs from this time: ISO time or 30m, 24h, 7d")
    export.add_argument("--until", help="only runs up to this time (ISO time or 30m, 24h, 7d)")
    export.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"golden file to append to ({DEFAULT_OUT})"
    )
    export.add_argument(
        "--goldens",
        type=Path,
        help="golden folder to skip duplicates of (default: the --out file's folder)",
    )
    export.add_argument("--limit", type=int, default=10_000, help="most spans to read")
    export.add_argument(
        "--dataset", metavar="NAME", help="also push the golden set to this Phoenix dataset"
    )
    export.set_defaults(run=cmd_export_goldens)


def default_project(root: Path, env: Mapping[str, str]) -> str | None:
    """The Phoenix project the plugin's runs in ``root`` trace to (as the plugin decides: ini
    ``evals_phoenix_project``, then ``PHOENIX_PROJECT_NAME``, then the agent's); None: the
    variable's, which the settings read."""
    from pytest_supportbot_evals.cli._checks import _ini
    from pytest_supportbot_evals.config._agent_config import project_of

    ini = _ini(root)
    named = str(ini.get("evals_phoenix_project") or "").strip()
    if named:
        return named
    if env.get("PHOENIX_PROJECT_NAME", "").strip():
        return None
    return project_of(str(ini.get("evals_agent") or "").strip() or None)


def cmd_export_goldens(args: argparse.Namespace) -> int:
    from phoenix.client import Client

    from evals_core.settings import Settings

    settings = Settings.from_env().with_overrides(
        phoenix_endpoint=args.phoenix or None,
        phoenix_project=args.project or default_project(Path.cwd(), os.environ),
    )
    from evals_core.tracing import base_url, public_url
    from phoenix_delivery.budget import DELIVERY_BUDGET, Deadline
    from phoenix_delivery.budget import client as budget_client
    from phoenix_delivery.phoenix_sink import reading_project
    from pytest_supportbot_evals.phoenix import export
    from pytest_supportbot_evals.phoenix.export_file import append_cases
    from pytest_supportbot_evals.run.goldens import load_goldens

    if not settings.phoenix_endpoint:
        raise ValueError(
            "export-goldens reads traces from Phoenix: set PHOENIX_COLLECTOR_ENDPOINT or --phoenix."
        )
    filters = [export.AnnotationFilter.parse(w) for w in args.where or [DEFAULT_FILTER]]
    since = export.parse_time(args.since) if args.since else None
    until = export.parse_time(args.until) if args.until else None
    folder = args.goldens or args.out.parent
    existing = load_goldens([folder]) if folder.exists() else []
    # every read from Phoenix within one budget (SUPPORTBOT_/EVALS_PHOENIX_BUDGET): a slow or
    # trickling server cannot hold the export
    http = budget_client(
        Deadline(settings.phoenix_budget or DELIVERY_BUDGET),
        api_key=settings.phoenix_api_key,
        base_url=base_url(settings.phoenix_endpoint),
    )
    client = Client(http_client=http)
    project = settings.phoenix_project
    public = public_url(base_url(settings.phoenix_endpoint))  # no credentials in what is written
    with reading_project(public, project):
        runs, spans_read = export.read_runs(client, project, since, until, args.limit)
        project_id = client.projects.get(project_name=project)["id"]
    trace_url = f"{public}/projects/{project_id}/traces/{{trace_id}}"
    cases, skipped = export.new_cases(runs, filters, existing, project=project, trace_url=trace_url)
    refused = append_cases(args.out, cases)
    written = [c for c in cases if not any(f"case {c['id']!r} " in r for r in refused)]
    print(summary(written, skipped, str(args.out)))
    for line in refused:
        print(
            f"not exported, it still holds a secret after redaction: {line}; remove it from "
            "the trace's input or export it by hand",
            file=sys.stderr,
        )
    if args.dataset:
        from pytest_supportbot_evals.phoenix.datasets import examples_from_goldens, push_dataset

        golden_set = load_goldens([folder if folder.exists() else args.out])
        dataset, added = push_dataset(client, args.dataset, examples_from_goldens(golden_set))
        print(f"dataset {args.dataset!r}: {added} example(s) added, {len(dataset)} in all")
    if not runs:
        print(f"(project {project!r} has no agent runs in that window)", file=sys.stderr)
    elif spans_read >= args.limit:
        print(
            f"warning: read the limit of {args.limit} spans; older runs were not looked at "
            "(raise --limit or narrow --since/--until)",
            file=sys.stderr,
        )
    return 1 if refused else 0


def summary(cases: Sequence[Mapping[str, Any]], skipped: int, path: str) -> str:
    lines = [f"exported {len(cases)} new golden case(s) to {path}; skipped {skipped} already there"]
    lines += [f"  {c['id']}: review {', '.join(c['review'])}" for c in cases]
    if cases:
        lines.append(
            "Check each case's expectations, delete its 'review:' line, then record it: "
            f"evals record {' '.join(c['id'] for c in cases)}"
        )
    return "\n".join(lines)
