"""A storm of occurrences sends one alert with its count, once, across processes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import jobs
from payledger.alerts import AlertCenter, AlertStore, WebhookSink, Windows
from payledger.alerts.center import DISPATCH_ALERTS
from payledger.domain.card_data import holds_card_data
from payledger.engine.queue import Queue

WINDOWS = Windows(gather=timedelta(seconds=30), dedup=timedelta(minutes=15))


def center(database, clock, receiver) -> AlertCenter:
    async def sinks():
        return [WebhookSink(receiver.url)]

    return AlertCenter(Queue(database, clock=clock), AlertStore(database, WINDOWS), sinks)


def counts(receiver) -> list[str]:
    return [post["text"] for post in receiver.posts]


async def storm(alerts: AlertCenter, n: int, key: str = "dead-letters") -> None:
    for number in range(n):
        await alerts.notify(key, "New dead letters", f"posting PT-{number}-PAY refused")


async def test_a_storm_sends_one_alert_with_its_count(database, clock, receiver):
    alerts = center(database, clock, receiver)
    await storm(alerts, 50)
    assert (await alerts.dispatch()).sent == []  # still gathering
    clock.advance(seconds=30)
    sent = (await alerts.dispatch()).sent
    assert [alert.count for alert in sent] == [50]
    assert counts(receiver) == ["[payledger] New dead letters (x50)"]
    assert (await alerts.dispatch()).sent == []  # nothing twice


async def test_more_within_the_window_are_counted_into_one_follow_up(database, clock, receiver):
    alerts = center(database, clock, receiver)
    await storm(alerts, 3)
    clock.advance(seconds=30)
    await alerts.dispatch()
    clock.advance(minutes=1)
    await storm(alerts, 7)
    clock.advance(minutes=5)
    assert (await alerts.dispatch()).sent == []  # inside the window
    clock.advance(minutes=10)
    await alerts.dispatch()
    assert counts(receiver) == [
        "[payledger] New dead letters (x3)",
        "[payledger] New dead letters (x7)",
    ]
    clock.advance(hours=1)
    await storm(alerts, 1)
    clock.advance(seconds=30)
    await alerts.dispatch()  # a quiet hour later, the first occurrence goes out promptly again
    assert counts(receiver)[-1] == "[payledger] New dead letters"


async def test_keys_are_deduplicated_separately(database, clock, receiver):
    alerts = center(database, clock, receiver)
    await storm(alerts, 2, key="auth:d365")
    await storm(alerts, 4, key="auth:paytrace")
    clock.advance(seconds=30)
    await alerts.dispatch()
    assert sorted(counts(receiver)) == [
        "[payledger] New dead letters (x2)",
        "[payledger] New dead letters (x4)",
    ]


async def test_two_processes_reporting_and_dispatching_send_one_alert(
    database, database_url, clock, receiver
):
    other_database = Database(database_url)  # a second process: its own engine and pool
    try:
        first, second = center(database, clock, receiver), center(other_database, clock, receiver)
        await asyncio.gather(storm(first, 10), storm(second, 10))
        clock.advance(seconds=30)
        results = await asyncio.gather(first.dispatch(), second.dispatch())
    finally:
        await other_database.dispose()
    assert sorted(len(result.sent) for result in results) == [0, 1]
    assert counts(receiver) == ["[payledger] New dead letters (x20)"]


async def test_an_undelivered_alert_stays_pending_and_goes_out_later(database, clock, receiver):
    alerts = center(database, clock, receiver)
    receiver.status = 503
    await storm(alerts, 2)
    clock.advance(seconds=30)
    failed = await alerts.dispatch()
    assert failed.sent == [] and failed.failed == ["webhook (slack): answered HTTP 503"]
    receiver.status = 200
    await storm(alerts, 1)
    clock.advance(minutes=1)
    await alerts.dispatch()
    assert counts(receiver)[-1] == "[payledger] New dead letters (x3)"


async def test_notify_schedules_a_dispatch_job_for_when_the_alert_is_due(database, clock, receiver):
    alerts = center(database, clock, receiver)
    await storm(alerts, 5)
    async with database.transaction() as conn:
        rows = (
            await conn.execute(
                select(jobs.c.kind, jobs.c.run_at).where(jobs.c.kind == DISPATCH_ALERTS)
            )
        ).all()
    assert [(kind, run_at) for kind, run_at in rows] == [
        (DISPATCH_ALERTS, clock.now() + timedelta(seconds=30))
    ]


@pytest.mark.parametrize("card", ["4111111111111111", "4111 1111 1111 1111"])
async def test_card_numbers_never_leave_in_an_alert(database, clock, receiver, card):
    alerts = center(database, clock, receiver)
    await alerts.notify("odd", f"payer {card}", f"raw {card}", facts={"field": card})
    clock.advance(seconds=30)
    await alerts.dispatch()
    delivered = json.dumps(receiver.posts)
    assert not holds_card_data(delivered)
    assert "[card ****1111]" in receiver.posts[0]["text"]
