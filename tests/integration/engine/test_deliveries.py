"""The webhook delivery log: deliveries arriving together are committed together, each with
the outcome it would have had alone; a delivery id is stored once, with its hint in the inbox
and the job that fetches the hinted payment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import idempotency_keys, inbox, jobs
from payledger.domain.errors import CardDataRejected
from payledger.domain.events import DeliveryRecorded, PaymentHinted
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.stores.deliveries import SqlDeliveryLog

KEEP = timedelta(hours=72)
SIGNED_AT = 1_774_371_600


def hint(delivery_id: str, txn: str = "1", *, signed_at: int = SIGNED_AT) -> PaymentHinted:
    return PaymentHinted(delivery_id, signed_at, txn, "transaction.created")


def delivery_log(database, clock) -> SqlDeliveryLog:
    return SqlDeliveryLog(
        Inbox(Queue(database, clock=clock)),
        scope="paytrace",
        keep=KEEP,
        source="paytrace-webhook",
        job_kind="paytrace.fetch_hinted",
    )


@pytest.fixture
def log(database, clock) -> SqlDeliveryLog:
    return delivery_log(database, clock)


async def rows(database, table) -> int:
    async with database.transaction() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_hint_is_stored_with_its_delivery_id_and_the_job_that_fetches_it(database, log):
    recorded = await log.record(hint("d1", "125391201"), "fp1")

    assert recorded == DeliveryRecorded(event_id=f"d1@{SIGNED_AT}")
    async with database.transaction() as conn:
        stored = (await conn.execute(select(inbox))).one()
        job = (await conn.execute(select(jobs))).one()
        key = (await conn.execute(select(idempotency_keys))).one()
    assert (stored.source, stored.external_id, stored.status) == (
        "paytrace-webhook",
        f"d1@{SIGNED_AT}",
        "received",
    )
    assert stored.payload == {"transaction_id": "125391201", "type": "transaction.created"}
    assert (job.kind, job.payload, job.ordering_key) == (
        "paytrace.fetch_hinted",
        {"inbox_id": stored.id},
        "paytrace-webhook:125391201",
    )
    assert (key.client, key.key, key.fingerprint) == ("webhook:paytrace", "d1", "fp1")


async def test_concurrent_deliveries_each_get_their_own_outcome(database, log):
    deliveries = [
        (hint("d1", "1"), "fp1"),
        (hint("d2", "2"), "fp2"),
        (hint("d3", "1"), "fp3"),  # another delivery about the same transaction: its own hint
        (hint("d1", "1", signed_at=SIGNED_AT + 5), "fp1"),  # a retry of d1 racing it
    ]
    outcomes = await asyncio.gather(*(log.record(h, fp) for h, fp in deliveries))
    assert outcomes == [
        DeliveryRecorded(event_id=f"d1@{SIGNED_AT}"),
        DeliveryRecorded(event_id=f"d2@{SIGNED_AT}"),
        DeliveryRecorded(event_id=f"d3@{SIGNED_AT}"),
        DeliveryRecorded(earlier_fingerprint="fp1"),
    ]
    assert await rows(database, inbox) == 3
    assert await rows(database, jobs) == 3
    assert await rows(database, idempotency_keys) == 3


async def test_a_delivery_id_is_known_to_another_process_only_through_the_table(
    database, clock, log
):
    await log.record(hint("d1"), "fp1")
    assert await log.known_fingerprint("d1") == "fp1"

    restarted = delivery_log(database, clock)
    assert await restarted.known_fingerprint("d1") is None
    again = await restarted.record(hint("d1", signed_at=SIGNED_AT + 60), "fp1")
    reused = await restarted.record(hint("d1", "2", signed_at=SIGNED_AT + 60), "fp-other")

    assert again == DeliveryRecorded(earlier_fingerprint="fp1")
    assert reused == DeliveryRecorded(earlier_fingerprint="fp1")
    assert await rows(database, inbox) == 1


async def test_after_the_replay_window_an_id_may_be_used_again(database, clock, log):
    await log.record(hint("d1", "1"), "fp1")
    clock.advance(hours=72, seconds=1)
    later = delivery_log(database, clock)

    reused = await later.record(hint("d1", "2", signed_at=SIGNED_AT + 259_201), "fp2")

    assert reused == DeliveryRecorded(event_id=f"d1@{SIGNED_AT + 259_201}")
    async with database.transaction() as conn:
        fingerprint = await conn.scalar(select(idempotency_keys.c.fingerprint))
        payloads = (await conn.execute(select(inbox.c.payload).order_by(inbox.c.id))).scalars()
        assert [p["transaction_id"] for p in payloads] == ["1", "2"]
    assert fingerprint == "fp2"
    assert await rows(database, jobs) == 2


async def test_the_same_signed_delivery_after_its_record_expired_is_still_a_replay(
    database, clock, log
):
    await log.record(hint("d1"), "fp1")
    clock.advance(hours=72, seconds=1)

    again = await delivery_log(database, clock).record(hint("d1"), "fp1")

    assert again == DeliveryRecorded(earlier_fingerprint="fp1")
    assert await rows(database, inbox) == 1
    assert await rows(database, jobs) == 1


async def test_a_delivery_that_cannot_be_stored_fails_alone(database, log):
    outcomes = await asyncio.gather(
        log.record(hint("d1", "1"), "fp1"),
        log.record(hint("4111111111111111", "2"), "fp2"),  # a card number as delivery id
        log.record(hint("d3", "3"), "fp3"),
        return_exceptions=True,
    )
    assert outcomes[0] == DeliveryRecorded(event_id=f"d1@{SIGNED_AT}")
    assert isinstance(outcomes[1], CardDataRejected)
    assert outcomes[2] == DeliveryRecorded(event_id=f"d3@{SIGNED_AT}")
    assert await rows(database, inbox) == 2
    assert await rows(database, idempotency_keys) == 2  # nothing of d2, not even its id
