"""The scheduled scans find dead letters, refused credentials, waiting events and a D365
outage from durable state, and each becomes one alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from payledger.adapters.db.tables import postings
from payledger.alerts import (
    AlertCenter,
    AlertStore,
    Thresholds,
    WebhookSink,
    Windows,
    run_scans,
)
from payledger.alerts.center import DISPATCH_ALERTS
from payledger.alerts.watch import watch_handlers
from payledger.domain.errors import AuthError, RejectedError, TransientError
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import Job, NewJob
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff
from payledger.engine.worker import Worker, WorkerOptions
from payledger.flows.post_payment import WaitingForOriginal
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS, flush_job

THRESHOLDS = Thresholds(event_wait=timedelta(minutes=15), outage_after_failures=5)


@pytest.fixture
def queue(database, clock) -> Queue:
    return Queue(database, clock=clock, backoff=Backoff(1, 1), max_attempts=10)


@pytest.fixture
def alerts(queue, receiver) -> AlertCenter:
    async def sinks():
        return [WebhookSink(receiver.url)]

    windows = Windows(gather=timedelta(0), dedup=timedelta(minutes=15))
    return AlertCenter(queue, AlertStore(queue.database, windows), sinks)


async def work(queue: Queue, handlers, alerts: AlertCenter | None = None) -> None:
    if alerts is not None:

        async def dispatch(_job: Job) -> None:
            await alerts.dispatch()

        handlers = {**handlers, DISPATCH_ALERTS: dispatch}
    options = WorkerOptions(poll_interval=0.01, lease_seconds=30)
    await Worker(queue, handlers, options=options).run_until_idle()


async def enqueue(queue: Queue, *jobs: NewJob) -> None:
    async with queue.database.transaction() as conn:
        for job in jobs:
            await queue.enqueue(conn, job)


async def fails_with(error: Exception):
    async def handler(_job: Job) -> None:
        raise error

    return handler


async def scanned(alerts: AlertCenter) -> list[str]:
    found = await run_scans(alerts, THRESHOLDS)
    await alerts.dispatch()
    return [occurrence.key for occurrence in found]


async def add_dead_posting(database, clock, reference: str) -> None:
    async with database.transaction() as conn:
        await conn.execute(
            insert(postings).values(
                gateway_txn_id=reference,
                operation="payment",
                reference=reference,
                state="dead",
                company="usmf",
                business_day="2026-03-24",
                currency="USD",
                amount="25.00",
                payload="{}",
                last_error="400 Customer NO-SUCH does not exist",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )


async def test_new_dead_letters_raise_one_alert_counting_them_all(queue, alerts, clock, receiver):
    refused = await fails_with(RejectedError("customer US-999 does not exist"))
    await enqueue(queue, *(NewJob(PROCESS_PAYMENT, {"n": n}) for n in range(3)))
    await work(queue, {PROCESS_PAYMENT: refused})
    await add_dead_posting(queue.database, clock, "PT-77-PAY")
    clock.advance(seconds=10)
    assert await scanned(alerts) == ["dead-letters"]
    [post] = receiver.posts
    assert post["text"] == "[payledger] New dead letters: work that needs a human (x4)"
    text = post["blocks"][1]["text"]["text"]
    assert "RejectedError: customer US-999 does not exist" in text
    assert "posting PT-77-PAY (payment): 400 Customer NO-SUCH does not exist" in text
    clock.advance(minutes=1)
    assert await scanned(alerts) == []  # the same dead letters are not reported again


async def test_refused_credentials_alert_at_once_and_not_again_as_dead_letters(
    queue, alerts, clock, receiver
):
    refused = await fails_with(AuthError("D365 token: HTTP 401", system="d365", operation="token"))
    await enqueue(queue, NewJob(FLUSH_JOURNALS, {"company": "usmf"}), NewJob(FLUSH_JOURNALS))
    await work(queue, watch_handlers({FLUSH_JOURNALS: refused}, alerts), alerts)
    [post] = receiver.posts
    assert post["text"] == "[payledger] D365 refused payledger's credentials (x2)"
    assert "D365 token: HTTP 401" in post["blocks"][1]["text"]["text"]
    clock.advance(seconds=10)
    assert await scanned(alerts) == []


async def test_a_refund_waiting_for_its_sale_raises_events_waiting(queue, alerts, clock, receiver):
    waiting = await fails_with(
        WaitingForOriginal("refund 502 waits for its sale 501", system="payledger")
    )
    async with queue.database.transaction() as conn:
        await Inbox(queue).accept(
            conn,
            source="paytrace",
            external_id="paytrace:502:refund:approved",
            payload={"kind": "refund"},
            job_kind=PROCESS_PAYMENT,
        )
    await work(queue, {PROCESS_PAYMENT: waiting})
    clock.advance(minutes=10)
    assert await scanned(alerts) == []
    clock.advance(minutes=6)
    assert await scanned(alerts) == ["events-waiting"]
    [post] = receiver.posts
    assert post["text"] == "[payledger] Events waiting longer than 15 min"
    text = post["blocks"][1]["text"]["text"]
    assert "paytrace:502:refund:approved" in text and "16 min" in text
    assert "refund 502 waits for its sale 501" in text


async def test_a_flush_failing_again_and_again_is_a_d365_outage(queue, alerts, clock, receiver):
    down = await fails_with(TransientError("D365 $batch: HTTP 503", system="d365"))
    await enqueue(queue, flush_job("usmf", clock.now(), timedelta(0)))
    for _attempt in range(4):
        await work(queue, {FLUSH_JOURNALS: down})
        clock.advance(seconds=2)
    assert await scanned(alerts) == []
    await work(queue, {FLUSH_JOURNALS: down})
    assert await scanned(alerts) == ["d365-outage"]
    [post] = receiver.posts
    assert post["text"] == "[payledger] D365 unavailable: journal writes keep failing"
    assert "failed 5 times in a row" in post["blocks"][1]["text"]["text"]

    async def back(_job: Job) -> None:
        return None

    clock.advance(seconds=2)
    await work(queue, {FLUSH_JOURNALS: back})
    assert await scanned(alerts) == []
