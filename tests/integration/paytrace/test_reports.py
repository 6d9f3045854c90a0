"""Exports and batches through the connector, translated into the canonical model."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from payledger.adapters.paytrace import (
    PayTraceAddress,
    batch_from_export,
    event_key,
    payment_from_export,
)
from payledger.domain import Money, Outcome, PaymentKind, PaymentStatus

D = Decimal
TODAY = date(2026, 3, 24)


async def test_export_filters(client, card, details):
    sale = await client.sale_keyed(D("10.00"), card(), details=details(invoice_id="FIND-ME"))
    declined = await client.sale_keyed(D("1.12"), card(), details=details())
    auth = await client.authorize_keyed(D("4.00"), card(), details=details())
    await client.void(auth.transaction_id)

    async def ids(**filters) -> list[int]:
        return [t.transaction_id for t in await client.export_transactions(TODAY, TODAY, **filters)]

    assert await ids(including_text="find-me") == [sale.transaction_id]
    assert await ids(transaction_type="DECLINED") == [declined.transaction_id]
    assert await ids(transaction_type="VOID") == [auth.transaction_id]
    assert await ids(transaction_type="AUTHORIZATION") == [auth.transaction_id]
    assert await ids(transaction_id=sale.transaction_id) == [sale.transaction_id]
    assert await client.export_transactions(date(2026, 3, 23), date(2026, 3, 23)) == []


async def test_sale_refund_and_capture_become_canonical_payments(client, card, details):
    sale = await client.sale_keyed(
        D("25.00"),
        card(),
        details=details(
            invoice_id="INV-9",
            billing_address=PayTraceAddress(name="Pat Doe", zip="99201"),
            discretionary_data={"SO": "SO-1"},
        ),
    )
    auth = await client.authorize_keyed(D("8.00"), card(), details=details())
    await client.capture(auth.transaction_id, D("6.00"))
    await client.settle()
    refund = await client.refund_transaction(sale.transaction_id, D("5.00"))

    sold = payment_from_export(await client.export_transaction(sale.transaction_id))
    captured = payment_from_export(await client.export_transaction(auth.transaction_id))
    refunded = payment_from_export(await client.export_transaction(refund.transaction_id))

    assert (sold.kind, sold.status, sold.amount) == (
        PaymentKind.SALE,
        PaymentStatus.SETTLED,
        Money.of("25.00"),
    )
    assert sold.occurred_at == datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)
    assert (sold.invoice_ref, sold.custom_fields, sold.customer.name) == (
        "INV-9",
        {"SO": "SO-1"},
        "Pat Doe",
    )
    assert sold.batch_number and sold.token.masked_card == "************5439"
    assert (captured.kind, captured.amount) == (PaymentKind.CAPTURE, Money.of("6.00"))
    assert (refunded.kind, refunded.status) == (PaymentKind.REFUND, PaymentStatus.APPROVED)
    assert refunded.original_txn_id == str(sale.transaction_id)
    assert event_key(sold) == f"paytrace:{sale.transaction_id}:sale:settled"


async def test_a_declined_export_is_a_soft_or_hard_decline(client, card, details):
    soft = await client.sale_keyed(D("1.12"), card(), details=details())
    hard = await client.sale_keyed(D("0.29"), card(), details=details())
    soft_payment = payment_from_export(await client.export_transaction(soft.transaction_id))
    hard_payment = payment_from_export(await client.export_transaction(hard.transaction_id))

    assert soft_payment.status is PaymentStatus.DECLINED
    assert soft_payment.outcome is Outcome.SOFT_DECLINE
    assert hard_payment.outcome is Outcome.HARD_DECLINE
    assert "Expired card" in hard_payment.message


async def test_batches_summarise_sales_and_refunds(client, card, details, sandbox):
    first = await client.sale_keyed(D("10.00"), card(), details=details())
    await client.sale_keyed(D("20.00"), card("5499740000000057"), details=details())
    await client.settle()
    await client.refund_transaction(first.transaction_id, D("4.00"))
    sandbox.clock.advance(3600)
    await client.settle()

    batches = await client.export_batches(TODAY, TODAY)
    latest = await client.export_batch()
    first_batch = await client.export_batch(batches[0].batch_number)
    listed = await client.batch_transactions(first_batch.batch_number)

    assert [b.net_amount for b in batches] == [D("30.00"), D("-4.00")]
    assert (first_batch.sales_count, first_batch.refund_count) == (2, 0)
    assert set(first_batch.card_types) == {"VISA", "MASTERCARD"}
    assert latest.batch_number == batches[1].batch_number
    assert (latest.refund_count, latest.refund_amount) == (1, D("4.00"))
    assert len(listed) == 2
    settlement = batch_from_export(first_batch)
    assert (settlement.net, settlement.transaction_count) == (Money.of("30.00"), 2)
    assert settlement.settled_at == datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)


async def test_daily_cutoff_closes_the_batch(make_client, settings, sandbox, card, details):
    settings.daily_cutoff = time(18, 0)
    sandbox.reset()
    async with make_client() as client:
        await client.sale_keyed(D("10.00"), card(), details=details())
        sandbox.clock.advance(8 * 3600)
        [batch] = await client.export_batches(TODAY, TODAY)
    assert batch.created == "3/24/2026 6:00:00 PM"
