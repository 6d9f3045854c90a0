"""Building the container from the settings, and running the schedules."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from payledger.adapters.db.database import Database
from payledger.bootstrap.alerts import build_alert_center
from payledger.bootstrap.container import Container
from payledger.bootstrap.jobs import register_jobs
from payledger.bootstrap.secret_store import build_secret_store
from payledger.config import Settings
from payledger.domain.clock import Clock, SystemClock
from payledger.engine.idempotency import IdempotencyKeys
from payledger.engine.inbox import Inbox
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff

log = structlog.get_logger(__name__)

SCHEDULER_INTERVAL_SECONDS = 15.0


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Build the container for ``settings``, with the handlers of every enabled job kind."""
    clock = clock or SystemClock()
    db_settings = settings.database
    database = Database(
        db_settings.url,
        busy_timeout_ms=db_settings.busy_timeout_ms,
        pool_size=db_settings.pool_size,
    )
    backoff = Backoff(settings.worker.backoff_base_seconds, settings.worker.backoff_cap_seconds)
    queue = Queue(database, clock=clock, backoff=backoff, max_attempts=settings.worker.max_attempts)
    vault = build_secret_store(settings, database, clock)
    container = Container(
        settings=settings,
        clock=clock,
        database=database,
        queue=queue,
        inbox=Inbox(queue),
        idempotency=IdempotencyKeys(
            clock,
            dialect=database.dialect,
            ttl=timedelta(hours=settings.api.idempotency_ttl_hours),
            lease=timedelta(seconds=settings.api.idempotency_lease_seconds),
        ),
        vault=vault,
        metrics=EngineMetrics(),
        alerts=build_alert_center(settings.alerts, queue, vault),
    )
    register_jobs(container)
    return container


async def run_scheduler(container: Container, stop: asyncio.Event) -> None:
    """Fire due schedule ticks until ``stop`` is set; safe to run in every process."""
    scheduler = container.scheduler()
    while not stop.is_set():
        try:
            async with container.database.transaction() as conn:
                for name, tick in await scheduler.fire_due(conn):
                    log.info("schedule.fired", schedule=name, tick=tick.isoformat())
        except Exception as exc:
            log.warning("schedule.failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCHEDULER_INTERVAL_SECONDS)
