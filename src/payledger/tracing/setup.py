"""The SDK side of tracing: a tracer provider built from ``[tracing]``, imported only when on."""

from __future__ import annotations

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from payledger.config import TracingSettings
from payledger.domain.errors import ConfigError
from payledger.tracing.scrub import ScrubbingExporter


def build_provider(
    settings: TracingSettings,
    *,
    role: str,
    exporter: SpanExporter | None = None,
    batch: bool = True,
) -> TracerProvider:
    """A provider sampling ``sample_ratio`` of new traces (a continued trace keeps its
    parent's decision, so one payment's spans are all kept or all dropped) and exporting
    through :class:`ScrubbingExporter` to ``exporter`` or the one ``settings`` name.

    ``batch=False`` exports each span as it ends (tests); otherwise in the background.
    """
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "payledger.process": role}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    chosen = exporter if exporter is not None else exporter_for(settings)
    if chosen is not None:
        scrubbed = ScrubbingExporter(chosen)
        processor = BatchSpanProcessor(scrubbed) if batch else SimpleSpanProcessor(scrubbed)
        provider.add_span_processor(processor)
    return provider


def exporter_for(settings: TracingSettings) -> SpanExporter | None:
    """The exporter ``settings.exporter`` names; ``none`` records spans (trace ids in logs,
    context through the queue) but sends them nowhere."""
    if settings.exporter == "console":
        return ConsoleSpanExporter(out=sys.stdout, formatter=_one_line)
    if settings.exporter == "otlp":
        return _otlp(settings)
    return None


def _one_line(span: ReadableSpan) -> str:
    line: str = span.to_json(indent=None)
    return line + "\n"


def _otlp(settings: TracingSettings) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigError(
            'tracing.exporter = "otlp" needs the OTLP exporter: pip install "payledger[otlp]"'
        ) from None
    # Headers (often an API key) come from OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, so that no
    # credential is written in payledger.toml; the endpoint likewise when not set here.
    return OTLPSpanExporter(endpoint=settings.endpoint or None)
