"""Spans exported in-process: a tracer provider whose spans land in an in-memory exporter,
through the same scrubbing wrapper a real process uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from payledger import tracing
from payledger.config import TracingSettings
from payledger.tracing.setup import build_provider


@contextmanager
def recorded_spans(role: str = "test") -> Iterator[InMemorySpanExporter]:
    """Trace this process for the block; the finished spans are in the yielded exporter."""
    exporter = InMemorySpanExporter()
    settings = TracingSettings(enabled=True, exporter="none")
    provider = build_provider(settings, role=role, exporter=exporter, batch=False)
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)
        provider.shutdown()


def everything_exported(spans: list[ReadableSpan]) -> str:
    """All text an exporter would send for ``spans``: names, attributes, events, status."""
    return "\n".join(json.dumps(json.loads(span.to_json())) for span in spans)


def trace_ids(spans: list[ReadableSpan]) -> set[int]:
    return {span.context.trace_id for span in spans if span.context is not None}


def named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})
