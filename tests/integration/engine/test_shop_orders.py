"""Shop orders in the inbox: one claim per order id, the order's job ahead of its payment's,
the poller's copy of the payment a duplicate, the ERP references handed to the payment."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from payledger.domain import Address, Customer, Money, Order, OrderLine, Payment
from payledger.domain.events import PaymentObserved
from payledger.domain.model import PaymentKind, PaymentStatus
from payledger.domain.shop_orders import ErpReferences, ShopOrder, ShopOrderStatus
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.shop_orders import COMPLETE_ORDER, SqlShopOrderStore

KEY = "paytrace:125391271:sale:approved"


@pytest.fixture
def store(database, clock) -> SqlShopOrderStore:
    return SqlShopOrderStore(Inbox(Queue(database, clock=clock)))


def shop_order(reference: str = "WEB-1") -> ShopOrder:
    customer = Customer("Ada Lovelace", email="ada@example.com", billing_address=Address(("1",)))
    order = Order(reference, customer, (OrderLine("D0001", 2, Money.of("10.00")),), "USD")
    return ShopOrder(order, Money.of("1.60"), Money.of("0.00"), Money.of("21.60"))


def sale(clock, status=PaymentStatus.APPROVED) -> Payment:
    return Payment(
        "125391271", PaymentKind.SALE, status, Money.of("21.60"), clock.now(), order_ref="WEB-1"
    )


async def test_an_order_id_is_claimed_once_and_a_stale_claim_can_be_taken_over(store, clock):
    assert await store.claim(shop_order(), client="shop") is None
    again = await store.claim(shop_order(), client="shop")
    assert again is not None and again.status is ShopOrderStatus.CHARGING

    assert await store.take_over("WEB-1", stale_before=clock.now()) is None  # not stale yet
    claimed = clock.now()
    clock.advance(minutes=11)
    later = clock.now() - timedelta(minutes=10)
    assert await store.take_over("WEB-1", stale_before=later) == claimed
    assert await store.take_over("WEB-1", stale_before=later) is None  # taken over once


async def test_a_declined_order_may_be_claimed_again_a_released_one_too(store, clock):
    await store.claim(shop_order(), client="shop")
    record = await store.get("WEB-1")
    await store.declined(
        replace(
            record, status=ShopOrderStatus.DECLINED, payment=sale(clock, PaymentStatus.DECLINED)
        )
    )
    assert (await store.get("WEB-1")).status is ShopOrderStatus.DECLINED
    assert await store.claim(shop_order(), client="shop") is None
    await store.release("WEB-1")
    assert await store.get("WEB-1") is None


async def test_an_order_id_stays_with_the_client_that_claimed_it(store, clock):
    await store.claim(shop_order(), client="shop")
    record = await store.get("WEB-1")
    declined = replace(
        record, status=ShopOrderStatus.DECLINED, payment=sale(clock, PaymentStatus.DECLINED)
    )
    await store.declined(declined)

    theirs = await store.claim(shop_order(), client="other-shop")

    assert theirs is not None and theirs.client == "shop"
    assert await store.get("WEB-1") == declined  # not claimed again for another client
    assert await store.claim(shop_order(), client="shop") is None


async def test_the_payment_waits_behind_its_order_and_the_pollers_copy_is_a_duplicate(
    store, clock, database
):
    await store.claim(shop_order(), client="shop")
    record = await store.get("WEB-1")
    payment = sale(clock)
    due = clock.now() + timedelta(seconds=12)
    pending = await store.accepted(
        replace(record, payment=payment),
        PaymentObserved(KEY, payment),
        source="paytrace",
        run_at=due,
    )
    queue = store.queue

    async with database.transaction() as conn:
        assert await queue.claim(conn, "w", 10, 30) == []  # order not due, payment behind it
        duplicate = await store.inbox.accept(
            conn, source="paytrace", external_id=KEY, payload={"x": 1}, job_kind=PROCESS_PAYMENT
        )
    assert duplicate.duplicate and duplicate.inbox_id == pending.payment_event

    erp = ErpReferences("US-031", "001300", "Paid")
    fields = {"D365 Customer": "US-031", "D365 Order": "001300"}
    done = await store.completed(pending, erp, event_fields=fields, inline=True)

    assert done.status is ShopOrderStatus.COMPLETED and (await store.get("WEB-1")).erp == erp
    assert done.client == "shop" and (await store.get("WEB-1")).client == "shop"
    async with database.transaction() as conn:
        [job] = await queue.claim(conn, "w", 10, 30)  # the order job is done: payment next
        event = await store.inbox.get(conn, pending.payment_event)
    assert job.kind == PROCESS_PAYMENT and job.payload == {"inbox_id": pending.payment_event}
    assert event["payload"]["custom_fields"] == fields
    assert event["payload"]["amount"]["amount"] == str(Decimal("21.60"))


async def test_a_queued_order_job_is_due_after_the_requests_attempt(store, clock, database):
    await store.claim(shop_order(), client="shop")
    record = await store.get("WEB-1")
    payment = sale(clock)
    await store.accepted(
        replace(record, payment=payment), PaymentObserved(KEY, payment), source="paytrace",
        run_at=clock.now() + timedelta(seconds=12),
    )  # fmt: skip
    clock.advance(seconds=13)
    async with database.transaction() as conn:
        [job] = await store.queue.claim(conn, "w", 10, 30)
    assert job.kind == COMPLETE_ORDER and job.payload == {"reference": "WEB-1"}
