"""A server span per HTTP request: the start of a webhook's or an API call's trace.

Named by the route's template once routing has run (``POST /webhooks/paytrace``), never by the
raw path, whose segments could be anything a caller sent. A caller's ``traceparent`` is not
followed: webhooks and API calls come from outside, so each request starts its own trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry.trace import SpanKind

from payledger import tracing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INGEST_PREFIXES = {"/webhooks/": "webhook", "/api/": "api"}
"""Where events and API calls enter, recorded as ``payledger.ingest``."""


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        ingest = next((v for k, v in INGEST_PREFIXES.items() if scope["path"].startswith(k)), None)
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        attributes = {"http.request.method": method, "payledger.ingest": ingest}
        with tracing.span(method, kind=SpanKind.SERVER, attributes=attributes) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if isinstance(route, str):
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    tracing.fail(span, str(status))
