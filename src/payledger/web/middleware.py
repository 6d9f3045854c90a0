"""ASGI middleware that guards every request before any route sees it.

* :class:`CorrelationIdMiddleware` gives each request an id (``X-Request-ID``, taken from the
  caller when sane) bound into every log line written while serving it.
* :class:`InboundGuardMiddleware` refuses oversized bodies (413) and any request carrying card
  data in its body, query string or headers (422), before anything can be stored or logged.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import structlog

from payledger.domain.card_data import find_card_data

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

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
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await _send_json(
                    send,
                    413,
                    {
                        "error": "payload_too_large",
                        "detail": f"request body exceeds {self.max_body_bytes} bytes",
                    },
                )
                return
        places = _card_data_places(scope, body)
        if places:
            log.warning("inbound.card_data_rejected", path=scope["path"], places=places)
            await _send_json(
                send,
                422,
                {
                    "error": "card_data_rejected",
                    "detail": "card numbers, security codes and track data are never accepted; "
                    "send a PayTrace Protect encrypted value or a vault customer id instead",
                    "fields": places,
                },
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _card_data_places(scope: Scope, body: bytes) -> list[str]:
    places = []
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    places += find_card_data(dict(query), path="query")
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    places += find_card_data(headers, path="header")
    if body:
        text = body.decode("utf-8", errors="replace")
        try:
            document: Any = json.loads(text)
        except ValueError:
            document = dict(parse_qsl(text, keep_blank_values=True)) or text
        places += find_card_data(document, path="body")
    return places
