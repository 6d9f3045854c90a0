"""The webhook delivery log: deliveries arriving together are committed together, each with
the outcome it would have had alone; a delivery id is stored once, with its event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import idempotency_keys, inbox, jobs
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.errors import CardDataRejected
from payledger.domain.events import DeliveryRecorded, PaymentObserved
from payledger.engine.deliveries import SqlDeliveryLog
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue

KEEP = timedelta(hours=72)


def observed(txn: str, status=PaymentStatus.APPROVED, **extra) -> PaymentObserved:
    payment = Payment(
        gateway_txn_id=txn,
        kind=PaymentKind.SALE,
        status=status,
        amount=Money(Decimal("12.50"), "USD"),
        occurred_at=datetime(2026, 3, 24, 17, 0, tzinfo=UTC),
        **extra,
    )
    return PaymentObserved(f"paytrace:{txn}:sale:{status.value}", payment)


@pytest.fixture
def log(database, clock) -> SqlDeliveryLog:
    return SqlDeliveryLog(Inbox(Queue(database, clock=clock)), scope="paytrace", keep=KEEP)


async def rows(database, table) -> int:
    async with database.transaction() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_concurrent_deliveries_each_get_their_own_outcome(database, log):
    deliveries = [
        ("d1", "fp1", observed("1")),
        ("d2", "fp2", observed("2")),
        ("d3", "fp3", observed("1")),  # another delivery about the same payment state
        ("d1", "fp1", observed("1")),  # a retry of d1 racing it
        ("d4", "fp4", observed("1", PaymentStatus.VOIDED)),
    ]
    outcomes = await asyncio.gather(
        *(log.record("paytrace", d, fp, event) for d, fp, event in deliveries)
    )
    assert outcomes == [
        DeliveryRecorded(new=True),
        DeliveryRecorded(new=True),
        DeliveryRecorded(new=False),
        DeliveryRecorded(new=False, earlier_fingerprint="fp1"),
        DeliveryRecorded(new=True),
    ]
    assert await rows(database, inbox) == 3
    assert await rows(database, jobs) == 3
    assert await rows(database, idempotency_keys) == 4


async def test_a_delivery_id_is_known_to_another_process_only_through_the_table(
    database, clock, log
):
    await log.record("paytrace", "d1", "fp1", observed("1"))
    assert await log.known_fingerprint("d1") == "fp1"

    restarted = SqlDeliveryLog(Inbox(Queue(database, clock=clock)), scope="paytrace", keep=KEEP)
    assert await restarted.known_fingerprint("d1") is None
    again = await restarted.record("paytrace", "d1", "fp1", observed("1", PaymentStatus.VOIDED))
    reused = await restarted.record("paytrace", "d1", "fp-other", observed("2"))

    assert again == DeliveryRecorded(new=False, earlier_fingerprint="fp1")
    assert reused == DeliveryRecorded(new=False, earlier_fingerprint="fp1")
    assert await rows(database, inbox) == 1


async def test_after_the_replay_window_an_id_may_be_used_again(database, clock, log):
    await log.record("paytrace", "d1", "fp1", observed("1"))
    clock.advance(hours=72, seconds=1)
    later = SqlDeliveryLog(Inbox(Queue(database, clock=clock)), scope="paytrace", keep=KEEP)
    assert await later.record("paytrace", "d1", "fp2", observed("2")) == DeliveryRecorded(new=True)
    async with database.transaction() as conn:
        fingerprint = await conn.scalar(select(idempotency_keys.c.fingerprint))
    assert fingerprint == "fp2"


async def test_a_delivery_that_cannot_be_stored_fails_alone(database, log):
    poisoned = observed("3", custom_fields={"memo": "card 4111111111111111"})
    outcomes = await asyncio.gather(
        log.record("paytrace", "d1", "fp1", observed("1")),
        log.record("paytrace", "d2", "fp2", poisoned),
        log.record("paytrace", "d3", "fp3", observed("2")),
        return_exceptions=True,
    )
    assert outcomes[0] == DeliveryRecorded(new=True)
    assert isinstance(outcomes[1], CardDataRejected)
    assert outcomes[2] == DeliveryRecorded(new=True)
    assert await rows(database, inbox) == 2
    assert await rows(database, idempotency_keys) == 2  # nothing of d2, not even its id
