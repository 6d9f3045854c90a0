"""A span for every request an HTTP client sends: one transport wrapper for every vendor.

The span says which system, the method, host, path template (keys and ids replaced, never the
query string or the body), the status and how many times this same request was sent before
under the same parent span (``http.request.resend_count``, as the semantic conventions name
a retry's ordinal): the adapters' retry loops need not know about tracing.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from payledger import tracing

_KEY = re.compile(r"\(.*\)$")
_ID = re.compile(r"^(?:[0-9]+|[0-9a-fA-F-]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27})$")
_REMEMBERED = 4096
"""Requests remembered for counting resends (the oldest are forgotten first)."""


def path_template(path: str) -> str:
    """``path`` with OData keys, numbers and GUIDs replaced: ``/data/Lines({key})``."""
    segments = []
    for segment in path.split("/"):
        if _KEY.search(segment):
            segment = _KEY.sub("({key})", segment)
        elif _ID.match(segment) or len(segment) > 64:
            segment = "{id}"
        segments.append(segment)
    return "/".join(segments)


class TracedTransport(httpx.AsyncBaseTransport):
    """Sends through ``inner`` inside a client span per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, system: str) -> None:
        self.inner = inner
        self.system = system
        self._sent: OrderedDict[tuple[int, int], int] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        template = path_template(url.path)
        attributes: dict[str, Any] = {
            "payledger.system": self.system,
            "http.request.method": request.method,
            "server.address": url.host,
            "server.port": url.port,
            "url.scheme": url.scheme,
            "url.template": template,
            "http.request.resend_count": self._resends(request),
        }
        with tracing.span(
            f"{request.method} {template}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            response = await self.inner.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                tracing.fail(span, str(response.status_code))
            return response

    def _resends(self, request: httpx.Request) -> int | None:
        parent = trace.get_current_span().get_span_context()
        if not parent.is_valid:
            return None
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        # Only a salted in-process hash of the request is kept, never the request itself.
        key = (parent.span_id, hash((request.method, str(request.url), body)))
        sent = self._sent.pop(key, 0)
        self._sent[key] = sent + 1
        while len(self._sent) > _REMEMBERED:
            self._sent.popitem(last=False)
        return sent or None

    async def aclose(self) -> None:
        await self.inner.aclose()


def traced_transport(
    transport: httpx.AsyncBaseTransport | None, *, system: str, verify: Any = True
) -> httpx.AsyncBaseTransport | None:
    """``transport`` (or httpx's default, with ``verify``) traced as ``system``, when tracing
    is on; otherwise ``transport`` itself, so a client built with tracing off pays nothing."""
    if not tracing.enabled():
        return transport
    inner = transport if transport is not None else httpx.AsyncHTTPTransport(verify=verify)
    return TracedTransport(inner, system=system)
