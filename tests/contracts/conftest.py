"""Each contract runs against the fake the flow tests use and the SQL store on SQLite and
PostgreSQL: ``backend`` is ``None`` for the fake, else a queue on a fresh migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.domain.clock import ManualClock
from payledger.engine.jobs import JobStatus
from payledger.engine.queue import Queue


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """None for the fake; else the URL of a fresh database."""
    if request.param == "fake":
        return None
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def backend(backend_url: str | None, clock: ManualClock) -> AsyncIterator[Queue | None]:
    if backend_url is None:
        yield None
        return
    database = Database(backend_url)
    await migrate(database)
    try:
        yield Queue(database, clock=clock)
    finally:
        await database.dispose()


async def pending_jobs(queue: Queue) -> int:
    async with queue.database.transaction() as conn:
        return (await queue.counts(conn)).get(JobStatus.PENDING, 0)
