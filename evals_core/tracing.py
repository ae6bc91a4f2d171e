"""Tracer providers for SupportBot, and routing of auto-instrumented OpenAI spans to them.

openinference-instrumentation-openai patches the ``openai`` module once per process and binds
one tracer at that moment. SupportBot must never use the *global* tracer provider by surprise,
and several bots (a test session, a CLI run) may live in one process, each with its own
provider. So the instrumentor is given a routing provider: each span goes to the provider of
the bot that is handling a query right now (a context variable), and nowhere outside one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from openinference.semconv.resource import ResourceAttributes
from opentelemetry import trace as trace_api
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, use_span

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

log = logging.getLogger(__name__)
PROJECT_ATTRIBUTE = ResourceAttributes.PROJECT_NAME
_active_provider: ContextVar[trace_api.TracerProvider | None] = ContextVar(
    "supportbot_active_tracer_provider", default=None
)
_instrumented = False


class _RoutingTracer(trace_api.Tracer):
    """Starts each span on the tracer provider that is active in the current context."""

    def __init__(self, name: str, version: str | None) -> None:
        self._scope = (name, version)

    def start_span(
        self,
        name: str,
        context: Any = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        provider = _active_provider.get()
        if provider is None:
            return INVALID_SPAN
        return provider.get_tracer(*self._scope).start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, *args: Any, end_on_exit: bool = True, **kwargs: Any
    ) -> Iterator[Span]:
        span = self.start_span(name, *args, **kwargs)
        with use_span(span, end_on_exit=end_on_exit) as current:
            yield current


class _RoutingTracerProvider(trace_api.TracerProvider):
    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> trace_api.Tracer:
        return _RoutingTracer(instrumenting_module_name, instrumenting_library_version)


def instrument_openai() -> None:
    """Instrument the openai SDK once per process, routed to the active bot's provider."""
    global _instrumented
    if _instrumented:
        return
    from openinference.instrumentation.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        log.warning(
            "openai was already instrumented elsewhere; SupportBot's LLM spans go to that "
            "instrumentation's tracer provider instead of the bot's."
        )
    else:
        instrumentor.instrument(tracer_provider=_RoutingTracerProvider())
    _instrumented = True


@contextmanager
def activate(provider: trace_api.TracerProvider) -> Iterator[None]:
    """Route auto-instrumented spans started in this block to ``provider``."""
    token = _active_provider.set(provider)
    try:
        yield
    finally:
        _active_provider.reset(token)


def memory_provider(project: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider that keeps finished spans in memory (tests, the pytest plugin)."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = new_provider(project)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def otlp_provider(project: str, endpoint: str, api_key: str | None = None) -> TracerProvider:
    """A provider exporting to Phoenix (or any collector) over OTLP/HTTP, in batches."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = new_provider(project)
    provider.add_span_processor(BatchSpanProcessor(otlp_exporter(endpoint, api_key)))
    return provider


def otlp_exporter(endpoint: str, api_key: str | None = None) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = {"authorization": f"Bearer {api_key}"} if api_key else None
    return OTLPSpanExporter(endpoint=traces_url(endpoint), headers=headers, timeout=10)


def traces_url(endpoint: str) -> str:
    """Phoenix's OTLP/HTTP traces URL for a collector endpoint given with or without the path."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def base_url(endpoint: str) -> str:
    """Phoenix's base URL (for the REST client) from a collector endpoint."""
    endpoint = endpoint.rstrip("/")
    return endpoint.removesuffix("/v1/traces")


def public_url(url: str) -> str:
    """``url`` without the ``user:password@`` it may carry: the form that is printed, logged
    and spooled (a credential in a URL is never shown)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def new_provider(project: str) -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    return TracerProvider(resource=Resource.create({PROJECT_ATTRIBUTE: project}))
