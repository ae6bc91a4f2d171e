"""``supportbot``: ask, chat (with thumbs up/down), evaluate traces in Phoenix, deliver the spool.

Phoenix is optional: with ``PHOENIX_COLLECTOR_ENDPOINT`` (or ``--phoenix``) set, traces and
feedback go there through a spool; when Phoenix is down they wait in the spool and are sent by
the next command that can reach it. Errors are one line on stderr and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from evals_core.settings import Settings, SettingsError
from phoenix_delivery.budget import DELIVERY_BUDGET, FOREGROUND_BUDGET
from phoenix_delivery.phoenix_sink import DEFAULT_SPOOL, PhoenixSink


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.phoenix:
            settings = settings.with_overrides(phoenix_endpoint=args.phoenix)
        if getattr(args, "project", None):
            settings = settings.with_overrides(phoenix_project=args.project)
        return int(args.run(args, settings))
    except (SettingsError, ValueError) as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line, not a traceback
        print(f"supportbot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--phoenix", metavar="URL", help="Phoenix URL (default: PHOENIX_COLLECTOR_ENDPOINT)"
    )
    parser.add_argument("--spool", type=Path, default=DEFAULT_SPOOL, help="spool file for Phoenix")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    ask = sub.add_parser("ask", help="answer one query")
    ask.add_argument("query")
    ask.add_argument("--session", help="session id for the trace")
    ask.set_defaults(run=cmd_ask)
    chat = sub.add_parser("chat", help="answer queries from stdin and ask 'helpful? (y/n/s)'")
    chat.add_argument(
        "--session",
        nargs="?",
        const="",
        metavar="ID",
        help="one multi-turn conversation: the bot remembers earlier turns; traced with this "
        "session id (a new one when ID is left out)",
    )
    chat.set_defaults(run=cmd_chat)
    evaluate = sub.add_parser("evaluate", help="judge a Phoenix project's TOOL and RETRIEVER spans")
    evaluate.add_argument(
        "--project", help="Phoenix project (default: PHOENIX_PROJECT_NAME or support-bot)"
    )
    evaluate.add_argument("--limit", type=int, default=1000, help="most spans to read")
    evaluate.add_argument("--judge-method", default="auto", choices=("auto", "tool_calling"))
    evaluate.set_defaults(run=cmd_evaluate)
    deliver = sub.add_parser("deliver", help="send what waits in the Phoenix spool")
    deliver.add_argument(
        "--retry-dead",
        action="store_true",
        help="put the records Phoenix refused too often (the .dead file) back first",
    )
    deliver.add_argument(
        "--reroute",
        action="store_true",
        help="send every record to this Phoenix (--phoenix), whatever Phoenix it was queued for",
    )
    deliver.set_defaults(run=cmd_deliver)
    serve = sub.add_parser("serve", help="run a local Phoenix or LLM server until Ctrl-C")
    serve.add_argument("service", choices=("phoenix", "llm"))
    serve.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    serve.set_defaults(run=lambda args, _settings: _serve(args))
    return parser


def _serve(args: argparse.Namespace) -> int:
    from devservices.serve import serve

    return serve(args.service, args.port)


def _sink(
    args: argparse.Namespace, settings: Settings, budget: float = FOREGROUND_BUDGET
) -> PhoenixSink | None:
    """The spool and Phoenix of this command; every wait on Phoenix within one budget
    (``SUPPORTBOT_PHOENIX_BUDGET``, else ``budget``)."""
    if not settings.phoenix_endpoint:
        return None
    return PhoenixSink(
        settings.phoenix_endpoint,
        args.spool,
        api_key=settings.phoenix_api_key,
        project=settings.phoenix_project,
        budget=settings.phoenix_budget or budget,
        reroute=bool(getattr(args, "reroute", False)),
    )


def _bot(settings: Settings, sink: PhoenixSink | None) -> Any:
    from supportbot.agent import SupportBot

    provider = None
    if sink is not None:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        from evals_core.tracing import new_provider
        from supportbot.feedback import SpoolingSpanExporter

        provider = new_provider(settings.phoenix_project)
        provider.add_span_processor(SimpleSpanProcessor(SpoolingSpanExporter(sink)))  # type: ignore[arg-type]
    return SupportBot(settings, tracer_provider=provider)


def _finish(sink: PhoenixSink | None, out: TextIO, what: str = "traces") -> None:
    """Send this command's own records; an old backlog is left to ``supportbot deliver``."""
    if sink is None:
        return
    delivery = sink.flush(only_new=True)
    if delivery.unreachable:
        print(
            f"Phoenix is not reachable at {sink.public_endpoint} ({delivery.error}). Your {what} "
            f"are kept in {sink.spool.path} and will be sent on the next run.",
            file=out,
        )
    elif delivery.pending or delivery.dead or delivery.set_aside:
        print(delivery.describe(sink.public_endpoint, sink.spool.path), file=out)
    elif delivery.delivered:
        print(f"Sent to Phoenix at {sink.public_endpoint}.", file=out)
    if delivery.delivered:
        note = sink.ensure_annotation_configs()
        if note:
            print(note, file=out)


def _check_length(query: str) -> None:
    """A query longer than a golden may be is refused, never sent (nor cut) silently."""
    from supportbot.agent import MAX_QUERY_CHARS

    if len(query.strip()) > MAX_QUERY_CHARS:
        raise ValueError(
            f"the query is {len(query.strip()):,} characters; SupportBot takes at most "
            f"{MAX_QUERY_CHARS:,} (as a golden case does): shorten it."
        )


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    _check_length(args.query)
    sink = _sink(args, settings)
    bot = _bot(settings, sink)
    result = bot.handle(args.query, session_id=args.session)
    print(result.response)
    print(f"category: {result.category}")
    print(f"span id: {result.span_id}  trace id: {result.trace_id}")
    _finish(sink, sys.stdout)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from supportbot.agent import EmptyQueryError
    from supportbot.feedback import feedback_annotation

    sink = _sink(args, settings)
    bot = _bot(settings, sink)
    interactive = sys.stdin.isatty()
    if args.session == "":
        import uuid

        args.session = f"chat-{uuid.uuid4().hex[:12]}"
    if args.session:
        print(f"session: {args.session}")
    rated = 0
    while True:
        query = _read("you> " if interactive else "", interactive)
        if query is None or query.strip().lower() in ("quit", "exit"):
            break
        try:
            _check_length(query)
            result = bot.handle(query, session_id=args.session)
        except (EmptyQueryError, ValueError) as exc:
            print(exc)
            continue
        print(f"bot> {result.response}\n     [{result.category}, span {result.span_id}]")
        rating = _ask_rating(interactive)
        if rating is None:
            continue
        if sink is None:
            print("(feedback not sent: set PHOENIX_COLLECTOR_ENDPOINT or --phoenix to keep it)")
            continue
        sink.add_annotations([feedback_annotation(result.span_id, rating, result.category)])
        rated += 1
        print(f"thanks: thumbs-{rating} recorded")
    if rated or sink is not None:
        _finish(sink, sys.stdout, what="traces and feedback")
    return 0


def _ask_rating(interactive: bool) -> str | None:
    from supportbot.feedback import parse_rating

    while True:
        answer = _read("helpful? (y/n/s) ", interactive, always_prompt=True)
        if answer is None:
            return None
        try:
            return parse_rating(answer)
        except ValueError as exc:
            print(exc)
            if not interactive:
                return None


def _read(prompt: str, interactive: bool, always_prompt: bool = False) -> str | None:
    if prompt and (interactive or always_prompt):
        print(prompt, end="" if interactive else "\n", flush=True)
    line = sys.stdin.readline()
    return None if line == "" else line.rstrip("\n")


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from supportbot.evaluate import evaluate_project

    sink = _sink(args, settings)
    if sink is None:
        raise ValueError(
            "evaluate reads spans from Phoenix: set PHOENIX_COLLECTOR_ENDPOINT or --phoenix."
        )
    spans, verdicts = evaluate_project(sink, settings, args.limit, args.judge_method)
    counts = Counter(
        (v.judge, v.label or "judge-error") for v in verdicts if v.document_position is None
    )
    print(f"Judged {spans} spans of project {settings.phoenix_project!r}:")
    for (judge, label), n in sorted(counts.items()):
        print(f"  {judge:<20} {label:<12} {n}")
    _finish(sink, sys.stdout, what="annotations")
    return 0


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    sink = _sink(args, settings, DELIVERY_BUDGET)
    if sink is None:
        raise ValueError("nothing to deliver to: set PHOENIX_COLLECTOR_ENDPOINT or --phoenix.")
    if args.retry_dead:
        print(f"{sink.spool.retry_dead_letters()} dead-lettered record(s) put back in the spool.")
    delivery = sink.flush()
    print(delivery.describe(sink.public_endpoint, sink.spool.path))
    return 0 if delivery.ok else 1  # also while records wait in the dead-letter file


if __name__ == "__main__":
    sys.exit(main())
