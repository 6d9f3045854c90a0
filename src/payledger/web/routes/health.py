"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from payledger.domain.errors import PayLedgerError
from payledger.web.auth import bearer, require_scope
from payledger.web.deps import ContainerDep
from payledger.web.problems import problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is unavailable"}})
async def readyz(container: ContainerDep) -> JSONResponse:
    """The process can do work: its database answers."""
    try:
        await container.database.ping()
    except (PayLedgerError, OSError) as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})


_reader = require_scope("read")


async def _scraper_allowed(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """With ``[service] metrics_auth = "token"``, a scrape needs a token with ``read``."""
    if container.settings.service.metrics_auth == "token":
        await _reader(container=container, credentials=credentials)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(_scraper_allowed)],
    responses=problem_responses(401, 403),
)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics; queue gauges are read from the database at scrape time. Needs an
    API token with the ``read`` scope when ``[service] metrics_auth = "token"``."""
    engine_metrics = container.metrics
    try:
        async with container.database.transaction() as conn:
            counts = await container.queue.counts(conn)
            oldest = await container.queue.oldest_pending_age(conn)
            waiting = await container.inbox.oldest_unprocessed_age(conn)
        for status, count in counts.items():
            engine_metrics.queue_depth.labels(status.value).set(count)
        engine_metrics.oldest_pending_seconds.set(oldest)
        engine_metrics.oldest_unprocessed_event_seconds.set(waiting)
    except PayLedgerError:
        pass  # counters are still worth scraping while the database is down
    return Response(generate_latest(engine_metrics.registry), media_type=CONTENT_TYPE_LATEST)
