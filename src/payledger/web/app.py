"""The FastAPI application: routes, guards, error mapping and the embedded worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI

from payledger import __version__
from payledger.bootstrap import Container, run_scheduler
from payledger.tracing.asgi import TracingMiddleware
from payledger.web.console import install_console
from payledger.web.errors import install_error_handlers
from payledger.web.middleware import CorrelationIdMiddleware, InboundGuardMiddleware
from payledger.web.pay import install_pay
from payledger.web.problems import install_problem_handler
from payledger.web.routes import business_events, health, payments, webhooks
from payledger.web.routes import orders as order_routes
from payledger.web.routes import reconcile as reconcile_routes
from payledger.web.routes import subscriptions as subscription_routes

log = structlog.get_logger(__name__)


def create_app(container: Container, *, embedded_worker: bool | None = None) -> FastAPI:
    """The service for ``container``; runs a worker and the scheduler inside unless told not to."""
    run_worker = (
        container.settings.service.embedded_worker if embedded_worker is None else embedded_worker
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await container.prepare()
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        worker = container.worker() if run_worker else None
        if worker is not None:
            tasks = [
                asyncio.create_task(worker.run()),
                asyncio.create_task(run_scheduler(container, stop)),
            ]
        log.info("service.started", embedded_worker=run_worker)
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                worker.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            log.info("service.stopped")

    described = container.settings.service.openapi
    app = FastAPI(
        title="payledger",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json" if described else None,
        docs_url="/docs" if described else None,
        redoc_url="/redoc" if described else None,
    )
    app.state.container = container
    webhooks.install(app)  # first: routes are matched in order, and it is the busiest
    app.include_router(health.router)
    app.include_router(reconcile_routes.router)
    app.include_router(order_routes.router)
    install_console(app)
    install_pay(app)
    app.include_router(payments.router)
    app.include_router(subscription_routes.router)
    app.include_router(business_events.router)
    install_problem_handler(app)
    install_error_handlers(app)  # PayLedgerError's code, validation, HTTP errors: web/errors.py

    app.add_middleware(
        InboundGuardMiddleware, max_body_bytes=container.settings.service.max_body_bytes
    )
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(TracingMiddleware)  # outermost: the span covers the guard's refusals
    return app
