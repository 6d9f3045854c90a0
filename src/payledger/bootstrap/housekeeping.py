"""Wiring of housekeeping: the hourly purge of expired idempotency keys."""

from __future__ import annotations

import structlog

from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule

log = structlog.get_logger(__name__)

PURGE_IDEMPOTENCY_KEYS = "maintenance.purge_idempotency_keys"


def purge_idempotency_keys(container: Container) -> Handler:
    async def purge(_job: Job) -> None:
        async with container.database.transaction() as conn:
            purged = await container.idempotency.purge_expired(conn)
        log.info("idempotency_keys.purged", count=purged)

    return purge


def hourly_purge(_settings: Settings) -> Schedule:
    return Schedule(
        name="purge-idempotency-keys", cron="17 * * * *", job_kind=PURGE_IDEMPOTENCY_KEYS
    )
