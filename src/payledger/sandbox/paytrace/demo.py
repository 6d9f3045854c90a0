"""Deterministic demo data: a few vault customers, a settled day and an open batch."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from payledger.sandbox.paytrace import ledger, settlement
from payledger.sandbox.paytrace.cards import Card
from payledger.sandbox.paytrace.records import BankAccount, CustomerProfile, TxnType
from payledger.sandbox.paytrace.service import PayTraceSandbox

TEST_CARD_NUMBERS = ("4012000098765439", "5499740000000057", "6011000993026909")
"""PayTrace's published sandbox test cards (Visa, MasterCard, Discover): the only card numbers
the demo and benchmarks ever encrypt for Protect; payledger never stores or logs them."""

DEMO_CUSTOMERS = (
    ("cust-0001", "Nathan Williams", Card(TEST_CARD_NUMBERS[0], 12, 2030), "INV-DEMO-1001"),
    ("cust-0002", "Ada Lovelace", Card(TEST_CARD_NUMBERS[1], 6, 2031), "INV-DEMO-1002"),
    ("cust-0003", "Grace Hopper", Card(TEST_CARD_NUMBERS[2], 3, 2029), "INV-DEMO-1003"),
    ("cust-0004", "Alan Turing", Card("371449635392376", 9, 2030), "INV-DEMO-1004"),
)


def seed_demo(sandbox: PayTraceSandbox) -> dict[str, Any]:
    """Add demo customers and transactions relative to the sandbox clock; returns a summary."""
    state, now = sandbox.state, sandbox.clock.now()
    yesterday = now - timedelta(days=1)
    for customer_id, name, card, _ in DEMO_CUSTOMERS:
        address = {
            "name": name,
            "street_address": "100 Main St.",
            "city": "Spokane",
            "state": "WA",
            "zip": "99201",
            "country": "US",
        }
        state.customers[customer_id] = CustomerProfile(
            customer_id,
            state.origin(yesterday),
            card=card,
            billing_address=address,
            email=f"{customer_id}@example.com",
        )
    state.customers["cust-0001"].account = BankAccount("123456789", "325070760")
    sales = [_sale(sandbox, index, yesterday) for index in range(len(DEMO_CUSTOMERS))]
    batch = settlement.settle(state, yesterday + timedelta(hours=8))
    ledger.refund(state, now, sales[0], Decimal("5.00"))
    authorization = _sale(sandbox, 1, now, TxnType.AUTHORIZATION)
    open_sale = _sale(sandbox, 2, now)
    sandbox.publish_changes()
    return {
        "customers": [c[0] for c in DEMO_CUSTOMERS],
        "settled_batch": batch.batch_number if batch else None,
        "settled_sales": sales,
        "open_authorization": authorization,
        "open_sale": open_sale,
    }


def _sale(sandbox: PayTraceSandbox, index: int, at: Any, kind: TxnType = TxnType.SALE) -> int:
    customer_id, _, card, invoice = DEMO_CUSTOMERS[index]
    profile = sandbox.state.customers[customer_id]
    amount = Decimal(25 * (index + 1)) + Decimal("0.50")
    details = {
        "invoice_id": invoice,
        "description": f"Demo order {index + 1}",
        "billing_address": profile.billing_address,
    }
    request = ledger.Charge(kind, amount, card, details=details, customer_id=customer_id)
    return ledger.charge(sandbox.state, at, request).transaction_id
