"""The poller against the PayTrace sandbox and a real database: no gaps, no duplicates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select

from payledger.adapters.db.tables import inbox, jobs, watermarks
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.domain import PaymentKind, PaymentStatus
from payledger.domain.codec import payment_from_dict
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import PROCESS_PAYMENT, SqlPaymentEventStore

CMD = PollPayments(overlap=timedelta(minutes=30), first_lookback=timedelta(hours=6))


def poller(database, client, sandbox):
    store = SqlPaymentEventStore(Inbox(Queue(database, clock=sandbox.clock)))
    source = PayTraceGateway(client)

    async def poll():
        return await poll_payments(CMD, source=source, store=store, clock=sandbox.clock)

    return poll


async def stored(database):
    async with database.transaction() as conn:
        rows = (await conn.execute(select(inbox).order_by(inbox.c.id))).all()
    return [(row.external_id, payment_from_dict(row.payload)) for row in rows]


async def test_each_payment_state_reaches_the_inbox_exactly_once(
    database, client, sandbox, card, details
):
    sale = await client.sale_keyed(D("25.00"), card(), details=details())
    declined = await client.sale_keyed(D("1.12"), card(), details=details())
    poll = poller(database, client, sandbox)

    first = await poll()
    assert (first.new, first.duplicates) == (2, 0)
    again = await poll()
    assert (again.new, again.duplicates) == (0, 2)

    sandbox.clock.advance(120)
    await client.void(sale.transaction_id)
    refund_source = await client.sale_keyed(D("40.00"), card(), details=details())
    await client.settle()
    refund = await client.refund_transaction(refund_source.transaction_id, D("15.00"))
    third = await poll()
    # new: the voided sale, the settled second sale, its refund; the decline is unchanged
    assert (third.new, third.duplicates) == (3, 1)

    events = await stored(database)
    ids = [external_id for external_id, _ in events]
    assert len(ids) == len(set(ids))
    by_id = {external_id: payment for external_id, payment in events}
    assert by_id[f"paytrace:{sale.transaction_id}:sale:approved"].amount.amount == D("25.00")
    assert by_id[f"paytrace:{sale.transaction_id}:sale:voided"].status is PaymentStatus.VOIDED
    refunded = by_id[f"paytrace:{refund.transaction_id}:refund:approved"]
    assert refunded.kind is PaymentKind.REFUND
    assert refunded.original_txn_id == str(refund_source.transaction_id)
    assert any(
        p.gateway_txn_id == str(declined.transaction_id) and p.status is PaymentStatus.DECLINED
        for _, p in events
    )


async def test_a_restarted_poller_resumes_from_its_watermark(
    database, make_client, sandbox, card, details
):
    async with make_client() as client:
        await client.sale_keyed(D("10.00"), card(), details=details())
        await poller(database, client, sandbox)()
    sandbox.clock.advance(3600)
    async with make_client() as client:  # a new process: nothing in memory survives
        await client.sale_keyed(D("11.00"), card(), details=details())
        result = await poller(database, client, sandbox)()
    assert (result.new, result.duplicates) == (1, 1)
    async with database.transaction() as conn:
        mark = (await conn.execute(select(watermarks))).one()
    assert mark.name == "poll:paytrace"
    assert mark.value == sandbox.clock.now()


async def test_events_of_one_transaction_share_an_ordering_key(
    database, client, sandbox, card, details
):
    sale = await client.sale_keyed(D("30.00"), card(), details=details())
    await poller(database, client, sandbox)()
    await client.void(sale.transaction_id)
    refunded_sale = await client.sale_keyed(D("20.00"), card(), details=details())
    await client.settle()
    refund = await client.refund_transaction(refunded_sale.transaction_id, D("20.00"))
    await poller(database, client, sandbox)()
    async with database.transaction() as conn:
        rows = (
            await conn.execute(select(jobs.c.kind, jobs.c.ordering_key).order_by(jobs.c.id))
        ).all()
    assert {row.kind for row in rows} == {PROCESS_PAYMENT}
    keys = [row.ordering_key for row in rows]
    assert keys.count(f"paytrace:{sale.transaction_id}") == 2  # approved, then voided
    # a refund is ordered on its own: it waits for its sale in the flow, never in the queue
    assert f"paytrace:{refund.transaction_id}" in keys
