"""The ASGI app: PayTrace v1 endpoints plus the ``/_sandbox`` control API."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request, Response

from payledger.sandbox.faults import FaultInjector
from payledger.sandbox.paytrace import control, protect_js
from payledger.sandbox.paytrace.service import PayTraceSandbox
from payledger.sandbox.paytrace.settings import PayTraceSandboxSettings


def create_app(
    settings: PayTraceSandboxSettings | None = None,
    *,
    faults: FaultInjector | None = None,
    notify_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build a PayTrace v1 sandbox app.

    Args:
        settings: Behaviour knobs; defaults follow the fact sheet (user ``demo123``).
        faults: A shared fault injector; a fresh one seeded with ``settings.seed`` otherwise.
        notify_transport: httpx transport the notifier delivers through (tests pass an
            ``ASGITransport`` of their receiver); the network when ``None``.

    Returns:
        A FastAPI app; the emulator itself is ``app.state.sandbox`` (a :class:`PayTraceSandbox`).
    """
    sandbox = PayTraceSandbox(settings, faults=faults, notify_transport=notify_transport)
    app = FastAPI(
        title="PayTrace v1 sandbox",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = sandbox
    app.include_router(control.router)
    app.include_router(protect_js.router)

    async def token(request: Request) -> Response:
        return await sandbox.token(request)

    async def v1(request: Request, path: str) -> Response:
        return await sandbox.v1(request, f"/v1/{path}")

    app.add_api_route("/oauth/token", token, methods=["POST"], include_in_schema=False)
    app.add_api_route("/v1/{path:path}", v1, methods=["GET", "POST"], include_in_schema=False)
    return app
