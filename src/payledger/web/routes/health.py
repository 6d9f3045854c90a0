"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from payledger.domain.errors import PayLedgerError
from payledger.views.cash import CashPicture, cash_picture
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
    """Prometheus metrics; queue gauges and the cash picture are read from the database at
    scrape time. Needs an API token with the ``read`` scope when ``[service] metrics_auth =
    "token"``."""
    engine_metrics = container.metrics
    cash = b""
    try:
        async with container.database.transaction() as conn:
            counts = await container.queue.counts(conn)
            oldest = await container.queue.oldest_pending_age(conn)
            waiting = await container.inbox.oldest_unprocessed_age(conn)
        for status, count in counts.items():
            engine_metrics.queue_depth.labels(status.value).set(count)
        engine_metrics.oldest_pending_seconds.set(oldest)
        engine_metrics.oldest_unprocessed_event_seconds.set(waiting)
        d365 = container.settings.d365
        picture = await cash_picture(
            container.database,
            company=d365.company,
            timezone=d365.timezone,
            now=container.clock.now(),
        )
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(CashCollector(picture))
        cash = generate_latest(scraped)
    except PayLedgerError:
        pass  # counters are still worth scraping while the database is down
    body = generate_latest(engine_metrics.registry) + cash
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class CashCollector(Collector):
    """The cash picture of one scrape as gauges (amounts in currency units, as floats)."""

    def __init__(self, picture: CashPicture) -> None:
        self.picture = picture

    def collect(self) -> list[GaugeMetricFamily]:
        amounts = GaugeMetricFamily(
            "payledger_cash_amount",
            "Money of today and of this ISO week (business days of [d365] timezone), by flow"
            " (captured, refunded, settled, posted, unposted), currency and payment method",
            labels=["period", "flow", "currency", "method"],
        )
        for period in self.picture.periods:
            for row in period.rows:
                for flow, money in row.amounts.items():
                    labels = [period.name, flow, row.currency, row.method]
                    amounts.add_metric(labels, float(money.amount))
        oldest = self.picture.oldest_unposted
        age = GaugeMetricFamily(
            "payledger_oldest_unposted_journal_age_seconds",
            "Time since the oldest journal written to D365 and not posted was opened (0: none)",
            value=oldest.age_seconds if oldest else 0.0,
        )
        net = GaugeMetricFamily(
            "payledger_oldest_unposted_journal_amount",
            "Net amount of the oldest unposted journal's lines",
            labels=["currency", "batch_number"],
        )
        if oldest:
            net.add_metric(
                [oldest.amount.currency, oldest.batch_number], float(oldest.amount.amount)
            )
        return [amounts, age, net]
