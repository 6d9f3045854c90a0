"""The operator web console at ``/console``: server-rendered pages, no build step, no scripts.

Dashboard, payments and each payment's timeline, dead letters with replay, journals (approved
for posting in ``after_review`` mode), subscriptions with pause, resume and cancel,
reconciliation reports, the risk review queue, mapping preview, the mapping studio, the flows
drawn as diagrams,
and connections.
People sign in with an API token whose scopes give them a role (:mod:`.access`); forms carry
a per-session CSRF token and are refused when the browser says another site sent them
(:mod:`.origin`); every value is escaped and card numbers are masked (:mod:`.render`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from payledger.web.console import (
    routes_auth,
    routes_dunning,
    routes_flows,
    routes_journals,
    routes_operate,
    routes_pages,
    routes_recon,
    routes_risk,
    routes_studio,
    routes_subscriptions,
)
from payledger.web.console.access import ConsoleProblem, LoginRequired
from payledger.web.console.origin import same_origin_only
from payledger.web.console.render import STATIC_DIR, console_base, page

PREFIX = "/console"

__all__ = ["PREFIX", "ROUTERS", "install_console"]

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        routes_auth,
        routes_pages,
        routes_operate,
        routes_journals,
        routes_recon,
        routes_subscriptions,
        routes_dunning,
        routes_risk,
        routes_flows,
        routes_studio,
    )
)
"""Every router of the console, each mounted under :data:`PREFIX`."""


async def _problem_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleProblem)
    context = {"title": exc.title, "detail": exc.detail}
    return page(request, "error.html", context, status_code=exc.status)


async def _to_login(request: Request, _exc: Exception) -> Response:
    wanted = request.url.path if request.method == "GET" else f"{console_base(request)}/"
    if request.method == "GET" and request.url.query:
        wanted += f"?{request.url.query}"
    target = f"{console_base(request)}/login?{urlencode({'next': wanted})}"
    return RedirectResponse(target, status_code=303)


def install_console(app: FastAPI) -> None:
    """Serve the console under ``/console`` on ``app``."""
    for router in ROUTERS:
        app.include_router(
            router,
            prefix=PREFIX,
            include_in_schema=False,
            dependencies=[Depends(same_origin_only)],  # before the session: it runs first
        )
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_exception_handler(ConsoleProblem, _problem_page)
    app.add_exception_handler(LoginRequired, _to_login)
