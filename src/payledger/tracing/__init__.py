"""Tracing: spans through OpenTelemetry's API, and the W3C trace context jobs carry.

Off unless ``[tracing] enabled``: then :func:`traced_process` installs an SDK tracer provider
(``tracing/setup.py``, the only module here that imports the SDK) for the life of ``serve`` or
``worker``. Until then :func:`tracer` is the API's no-op tracer, so a span costs a few
attribute look-ups, and no HTTP client is wrapped at all (``tracing/http.py``).

Spans carry only the attributes in :data:`ALLOWED_ATTRIBUTES` (names of what happened, never
bodies, query strings or headers); the exporter wrapper of ``tracing/scrub.py`` drops any
other and masks card numbers and secret-looking text as a last guard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from payledger.tracing.attributes import ALLOWED_ATTRIBUTES, Attribute, allowed

if TYPE_CHECKING:
    from payledger.config import TracingSettings

_SCOPE = "payledger"
_propagator = TraceContextTextMapPropagator()
_tracer: Tracer = trace.NoOpTracer()
_enabled = False


def install(provider: trace.TracerProvider | None) -> None:
    """Trace through ``provider`` from now on (``None``: back to the no-op tracer).

    Process-wide but not OpenTelemetry's global provider, which may be set only once: tests
    install one provider after another.
    """
    global _tracer, _enabled
    _tracer = provider.get_tracer(_SCOPE) if provider is not None else trace.NoOpTracer()
    _enabled = provider is not None


def enabled() -> bool:
    """Whether a tracer provider is installed (HTTP clients built now are traced)."""
    return _enabled


def tracer() -> Tracer:
    return _tracer


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Attribute | None] | None = None,
    parent: str | None = None,
    links: Sequence[str | None] = (),
) -> Iterator[Span]:
    """A current span named ``name``; ``parent`` and ``links`` are W3C ``traceparent`` values
    (a job's stored context). An exception marks it failed with its type only (a message may
    quote a vendor's answer) and goes on."""
    with _tracer.start_as_current_span(
        name,
        context=context_of(parent),
        kind=kind,
        attributes=allowed(attributes or {}),
        links=[Link(c) for c in (span_context_of(value) for value in links) if c is not None],
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            fail(current, type(exc).__name__)
            raise


def fail(current: Span, error_type: str) -> None:
    """Mark ``current`` failed with ``error_type`` (a class name or a status code)."""
    current.set_attribute("error.type", error_type)
    current.set_status(Status(StatusCode.ERROR))


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None outside any (or when off)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context | None:
    """A context whose span is the remote one ``traceparent`` names (None when absent/bad)."""
    if not traceparent:
        return None
    extracted = _propagator.extract({"traceparent": traceparent})
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


def span_context_of(traceparent: str | None) -> trace.SpanContext | None:
    context = context_of(traceparent)
    return trace.get_current_span(context).get_span_context() if context is not None else None


@contextlib.contextmanager
def traced_process(settings: TracingSettings, *, role: str) -> Iterator[None]:
    """Trace this process (``role``: ``serve``, ``worker``) as ``settings`` say, flushing the
    last spans on the way out. Disabled: nothing is imported or installed."""
    if not settings.enabled:
        yield
        return
    from payledger.tracing.setup import build_provider

    provider = build_provider(settings, role=role)
    install(provider)
    try:
        yield
    finally:
        install(None)
        provider.shutdown()


__all__ = [
    "ALLOWED_ATTRIBUTES",
    "allowed",
    "context_of",
    "current_traceparent",
    "enabled",
    "fail",
    "install",
    "span",
    "span_context_of",
    "traced_process",
    "tracer",
]
