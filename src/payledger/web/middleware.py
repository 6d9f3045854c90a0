"""ASGI middleware that guards every request before any route sees it.

* :class:`CorrelationIdMiddleware` gives each request an id (``X-Request-ID``, taken from the
  caller when sane) bound into every log line written while serving it.
* :class:`InboundGuardMiddleware` refuses oversized bodies (413) and whatever
  :func:`~payledger.web.guard.inspect_request` refuses (card data anywhere, bodies that are not
  UTF-8, duplicate singleton headers, JSON too deep, non-finite numbers, lone surrogates),
  before anything can be stored or logged.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog

from payledger.web.guard import inspect_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INSPECT_IN_LOOP_BYTES = 64 * 1024
"""Larger bodies are inspected in a thread: a megabyte of digit soup costs the card detector
about a second of CPU, which must not stall every other request on the event loop."""
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
log = structlog.get_logger(__name__)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=request_id):
            await self.app(scope, receive, send_with_id)


class InboundGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = bytearray()
        more = True
        while more:
            message = await receive()
            chunks += message.get("body", b"")
            more = message.get("more_body", False)
            if len(chunks) > self.max_body_bytes:
                await _send_json(
                    send,
                    413,
                    {
                        "error": "payload_too_large",
                        "detail": f"request body exceeds {self.max_body_bytes} bytes",
                    },
                )
                return
        body = bytes(chunks)
        parts = (scope["path"], scope["headers"], scope.get("query_string", b""), body)
        if len(body) > _INSPECT_IN_LOOP_BYTES:
            refusal = await asyncio.to_thread(inspect_request, *parts)
        else:
            refusal = inspect_request(*parts)
        if refusal is not None:
            log.warning(
                "inbound.refused", path=scope["path"], error=refusal.error, places=refusal.fields
            )
            await _send_json(send, refusal.status, refusal.body())
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
