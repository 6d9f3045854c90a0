"""Check (ACH) transactions as the poller sees them: exported, translated, kept apart from cards.

PayTrace documents no check export (fact sheet §4.14); by default the sandbox mixes check records
into the transaction export, told apart by ``check_transaction_id``, and the connector reads them
from there (``PayTracePaths.check_export``). The other shapes: ``test_check_export_apart.py``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from payledger.adapters.paytrace import PayTraceCheck, PayTraceSaleDetails
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.domain import Outcome, PaymentKind, PaymentStatus

TODAY = date(2026, 3, 24)
ACCOUNT = PayTraceCheck(account_number="123456", routing_number="325070760")


def order(reference: str, account: str = "US-002") -> PayTraceSaleDetails:
    return PayTraceSaleDetails(
        invoice_id=f"INV-{reference}",
        customer_reference_id=reference,
        discretionary_data={"D365 Customer": account},
    )


async def test_checks_come_with_the_transaction_export_and_become_ach_payments(
    client, card, details
):
    sale = await client.sale_keyed(D("10.00"), card(), details=details())
    ach = await client.check_sale_by_account(D("42.10"), ACCOUNT, details=order("PO-1"))
    refund = await client.check_refund(ach.check_transaction_id, D("10.00"))
    declined = await client.check_sale_by_account(D("1.12"), ACCOUNT)

    export = await client.export_payments(TODAY, TODAY)
    payments = {p.gateway_txn_id: p for p in await PayTraceGateway(client).payments_on(TODAY)}

    assert [t.transaction_id for t in export.transactions] == [sale.transaction_id]
    assert [c.check_transaction_id for c in export.checks] == [
        ach.check_transaction_id,
        refund.check_transaction_id,
        declined.check_transaction_id,
    ]
    assert await client.export_transactions(TODAY, TODAY) == export.transactions  # cards only
    bought = payments[f"CHK-{ach.check_transaction_id}"]
    assert (bought.kind, bought.status, bought.amount.amount) == (
        PaymentKind.ACH_SALE,
        PaymentStatus.APPROVED,
        D("42.10"),
    )
    assert (bought.order_ref, bought.invoice_ref) == ("PO-1", "INV-PO-1")
    assert bought.custom_fields == {"D365 Customer": "US-002"}
    paid_back = payments[f"CHK-{refund.check_transaction_id}"]
    assert (paid_back.kind, paid_back.original_txn_id) == (
        PaymentKind.ACH_REFUND,
        bought.gateway_txn_id,
    )
    assert paid_back.custom_fields == bought.custom_fields  # a refund inherits the sale's data
    refused = payments[f"CHK-{declined.check_transaction_id}"]
    assert (refused.status, refused.outcome) == (PaymentStatus.DECLINED, Outcome.SOFT_DECLINE)
    assert payments[str(sale.transaction_id)].kind is PaymentKind.SALE


async def test_settled_voided_and_held_checks_carry_their_state(client):
    settled = await client.check_sale_by_account(D("20.00"), ACCOUNT)
    voided = await client.check_sale_by_account(D("21.00"), ACCOUNT)
    held = await client.check_hold_by_account(D("22.00"), ACCOUNT)
    await client.check_void(voided.check_transaction_id)
    await client.settle()

    payments = {p.gateway_txn_id: p for p in await PayTraceGateway(client).payments_on(TODAY)}
    kind_and_status = {
        txn: (p.kind, p.status) for txn, p in payments.items() if txn.startswith("CHK-")
    }

    assert kind_and_status == {
        f"CHK-{settled.check_transaction_id}": (PaymentKind.ACH_SALE, PaymentStatus.SETTLED),
        f"CHK-{voided.check_transaction_id}": (PaymentKind.ACH_SALE, PaymentStatus.VOIDED),
        f"CHK-{held.check_transaction_id}": (PaymentKind.AUTHORIZATION, PaymentStatus.APPROVED),
    }
    export = await client.export_payments(TODAY, TODAY)
    [settled_record] = [
        c for c in export.checks if c.check_transaction_id == settled.check_transaction_id
    ]
    assert settled_record.settled == "3/24/2026 10:15:02 AM"


async def test_the_sandbox_export_filters_apply_to_checks(client, wire, card, details):
    sale = await client.check_sale_by_account(D("20.00"), ACCOUNT, details=order("FIND-ME"))
    await client.check_sale_by_account(D("1.12"), ACCOUNT)
    await client.sale_keyed(D("10.00"), card(), details=details())

    async def check_ids(**filters) -> list[int]:
        body = await wire.ok(
            "/v1/transactions/export/by_date_range",
            {"start_date": "03/24/2026", "end_date": "03/24/2026", **filters},
        )
        return [
            r["check_transaction_id"] for r in body["transactions"] if "check_transaction_id" in r
        ]

    assert await check_ids(including_text="find-me") == [sale.check_transaction_id]
    assert await check_ids(transaction_type="SALE") != []
    assert await check_ids(transaction_type="REFUND") == []
    assert len(await check_ids(transaction_type="DECLINED")) == 1
    assert await check_ids(transaction_id=sale.check_transaction_id) == []  # a card id filter
    assert await check_ids(start_date="03/23/2026", end_date="03/23/2026") == []
