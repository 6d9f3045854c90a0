"""The daily run: due once a day after the batch cutoff, reconciling the day before."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from payledger.adapters.db.tables import jobs
from payledger.bootstrap import build
from payledger.config import DatabaseSettings, LoggingSettings, Settings, VaultSettings
from payledger.domain.clock import ManualClock
from payledger.domain.reconcile.runs import previous_day
from payledger.stores.reconciliation import RUN_RECONCILIATION


def settings(database_url: str, tmp_path, **reconcile) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        reconcile=reconcile,
    )


def test_the_day_reconciled_is_the_vendor_day_before_the_tick():
    tick = datetime(2026, 3, 25, 9, 30, tzinfo=UTC)  # 02:30 in Los Angeles
    assert previous_day(tick, "America/Los_Angeles") == date(2026, 3, 24)
    assert previous_day(datetime(2026, 3, 25, 5, 0, tzinfo=UTC), "America/Los_Angeles") == date(
        2026, 3, 23
    )  # 22:00 on the 24th in Los Angeles


def test_without_enabled_there_is_no_daily_schedule(sqlite_url, tmp_path):
    container = build(settings(sqlite_url, tmp_path))
    assert "reconcile-daily" not in [s.name for s in container.schedules]
    assert RUN_RECONCILIATION in container.handlers  # a queued run still has its handler


async def test_the_daily_run_fires_once_at_the_configured_local_time(database_url, tmp_path):
    clock = ManualClock(datetime(2026, 3, 25, 9, 29, tzinfo=UTC))  # 02:29 Pacific
    container = build(settings(database_url, tmp_path, enabled=True, daily_at="2:30"), clock=clock)
    try:
        await container.prepare()
        [schedule] = [s for s in container.schedules if s.name == "reconcile-daily"]
        assert (schedule.cron, schedule.timezone) == ("30 2 * * *", "America/Los_Angeles")
        scheduler = container.scheduler(name="test")
        scheduler.schedules = [schedule]
        async with container.database.transaction() as conn:
            [(_, latest)] = await scheduler.fire_due(conn)
        assert latest == datetime(2026, 3, 24, 9, 30, tzinfo=UTC)  # yesterday's, never fired
        clock.advance(minutes=1)
        for _ in range(2):  # two processes asking: one job
            async with container.database.transaction() as conn:
                await scheduler.fire_due(conn)
        async with container.database.transaction() as conn:
            runs = (await conn.execute(select(jobs).where(jobs.c.kind == RUN_RECONCILIATION))).all()
        assert sorted(job.payload["tick"] for job in runs) == [
            "2026-03-24T09:30:00+00:00",
            "2026-03-25T09:30:00+00:00",
        ]
    finally:
        await container.aclose()
