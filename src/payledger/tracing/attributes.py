"""The span attributes payledger records: an allow-list, so that no body, query string or
header can reach a span by accident."""

from __future__ import annotations

from collections.abc import Mapping

Attribute = str | int | float | bool

ALLOWED_ATTRIBUTES = frozenset(
    {
        # HTTP, as the OpenTelemetry semantic conventions name them
        "http.request.method", "http.response.status_code", "http.route", "url.template",
        "url.scheme", "server.address", "server.port", "http.request.resend_count",
        "error.type",
        # payledger's own
        "payledger.system", "payledger.ingest", "payledger.job.kind", "payledger.job.id",
        "payledger.job.attempt", "payledger.job.batch_size",
    }
)  # fmt: skip
"""The only span attribute names payledger records or lets an exporter see."""


def allowed(attributes: Mapping[str, Attribute | None]) -> dict[str, Attribute]:
    """``attributes`` restricted to :data:`ALLOWED_ATTRIBUTES`, without empty values."""
    return {k: v for k, v in attributes.items() if k in ALLOWED_ATTRIBUTES and v is not None}
