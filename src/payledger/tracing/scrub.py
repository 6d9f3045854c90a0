"""The last guard before spans leave the process: allow-listed attributes only, card numbers
and secret-looking text masked, in names, attributes, events, links and status text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from payledger.domain.card_data import redact_card_numbers
from payledger.tracing.attributes import ALLOWED_ATTRIBUTES

SECRET_LOOKING = re.compile(
    r"(?i)\bbearer\s+\S+"
    r"|\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*"  # a JWT
    r"|\bwhsec_\S+"
    r"|\b(?:password|passwd|client_secret|secret|token|access_token|api_key|apikey)"
    r"\s*[=:]\s*\S+"
)
"""Text that looks like a credential: bearer tokens, JWTs, webhook secrets, key=value."""


def scrub_text(text: str) -> str:
    """``text`` with card numbers masked and secret-looking parts replaced."""
    return SECRET_LOOKING.sub("[redacted]", redact_card_numbers(text))


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(scrub_value(item) for item in value)
    if isinstance(value, bytes):
        return "[bytes]"
    return value


def scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Allow-listed attributes only, their text scrubbed."""
    return {
        key: scrub_value(value)
        for key, value in (attributes or {}).items()
        if key in ALLOWED_ATTRIBUTES
    }


def scrub_span(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    return ReadableSpan(
        name=scrub_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=scrub_attributes(span.attributes),
        events=[
            Event(scrub_text(event.name), scrub_attributes(event.attributes), event.timestamp)
            for event in span.events
        ],
        links=[Link(link.context, scrub_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(status.status_code, scrub_text(status.description or "") or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingExporter(SpanExporter):
    """Wraps an exporter so that it only ever sees scrubbed spans."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrub_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)
