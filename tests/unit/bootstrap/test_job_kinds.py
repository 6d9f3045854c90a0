"""The job-kind table is what a built container runs: every enabled kind and nothing else,
with its batch handler, priority and schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from payledger.bootstrap import Container, build
from payledger.bootstrap.customers import SYNC_CUSTOMERS
from payledger.bootstrap.dunning import RETRY_DUNNING, retry_schedule
from payledger.bootstrap.jobs import JOB_KINDS
from payledger.bootstrap.journals import POST_JOURNALS
from payledger.bootstrap.payments import POLL_PAYTRACE
from payledger.bootstrap.risk import TRAIN_RISK
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS, billing_schedule
from payledger.config import DatabaseSettings, LoggingSettings, Settings, VaultSettings
from payledger.stores.notices import SEND_NOTICES
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS
from payledger.stores.reconciliation import RUN_RECONCILIATION


def settings(tmp_path: Path, **sections: object) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'payledger.db'}"),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        **sections,
    )


@pytest.fixture
async def everything_on(tmp_path: Path) -> AsyncIterator[Container]:
    container = build(
        settings(
            tmp_path,
            paytrace={"enabled": True},
            d365={"enabled": True},
            sync={"customers_enabled": True},
            reconcile={"enabled": True},
            subscriptions={"enabled": True},
            dunning={"enabled": True},
            risk={"mode": "shadow"},
        )
    )
    yield container
    await container.aclose()


@pytest.fixture
async def everything_off(tmp_path: Path) -> AsyncIterator[Container]:
    container = build(settings(tmp_path))
    yield container
    await container.aclose()


def test_each_kind_has_one_row():
    kinds = [row.kind for row in JOB_KINDS]
    assert len(kinds) == len(set(kinds))


async def test_with_everything_enabled_every_row_is_registered(everything_on):
    assert list(everything_on.handlers) == [row.kind for row in JOB_KINDS]
    assert list(everything_on.batch_handlers) == [PROCESS_PAYMENT]
    assert everything_on.priority_kinds == [FLUSH_JOURNALS]
    assert [s.name for s in everything_on.schedules] == [
        "purge-idempotency-keys",
        "reconcile-daily",
        "alerts-check",
        "paytrace-poll",
        "journals-post",
        "customer-sync",
        "subscriptions-bill",
        "dunning-retry",
        "dunning-notices",
        "risk-train",
    ]


async def test_every_schedule_names_a_kind_that_has_a_handler(everything_on):
    assert {s.job_kind for s in everything_on.schedules} <= set(everything_on.handlers)


async def test_disabled_systems_leave_their_kinds_and_schedules_out(everything_off):
    off = {
        POLL_PAYTRACE,
        PROCESS_PAYMENT,
        FLUSH_JOURNALS,
        POST_JOURNALS,
        SYNC_CUSTOMERS,
        BILL_SUBSCRIPTIONS,
        RETRY_DUNNING,
        SEND_NOTICES,
        TRAIN_RISK,
    }
    assert set(everything_off.handlers) == {row.kind for row in JOB_KINDS} - off
    assert everything_off.batch_handlers == {}
    assert everything_off.priority_kinds == []
    assert [s.name for s in everything_off.schedules] == ["purge-idempotency-keys", "alerts-check"]
    assert RUN_RECONCILIATION in everything_off.handlers  # replayable, though not scheduled


@pytest.mark.parametrize(
    ("minutes", "cron"), [(5, "*/5 * * * *"), (15, "*/15 * * * *"), (120, "0 */2 * * *")]
)
def test_the_billing_run_is_scheduled_every_run_every_minutes(tmp_path, minutes, cron):
    schedule = billing_schedule(settings(tmp_path, subscriptions={"run_every_minutes": minutes}))
    assert (schedule.cron, schedule.job_kind) == (cron, BILL_SUBSCRIPTIONS)


@pytest.mark.parametrize(("minutes", "cron"), [(15, "*/15 * * * *"), (60, "0 */1 * * *")])
def test_the_dunning_retry_is_scheduled_every_run_every_minutes(tmp_path, minutes, cron):
    schedule = retry_schedule(settings(tmp_path, dunning={"run_every_minutes": minutes}))
    assert (schedule.cron, schedule.job_kind) == (cron, RETRY_DUNNING)
