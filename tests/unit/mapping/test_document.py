"""The source document built from domain objects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from payledger.domain import Customer, Money, Payment, PaymentKind, PaymentStatus
from payledger.mapping import jsonable, source_document
from tests.unit.mapping.golden_cases import ORDER, payment


def test_payment_section_keeps_money_exact_and_times_in_utc():
    occurred = datetime(2025, 3, 4, 19, 4, 5, tzinfo=timezone(timedelta(hours=-8)))
    document = source_document(payment(PaymentKind.SALE, occurred_at=occurred))

    section = document["payment"]
    assert section["amount"] == Decimal("125.50") and section["currency"] == "USD"
    assert section["occurred_at"] == "2025-03-05T03:04:05Z"
    assert section["kind"] == "sale" and section["outcome"] == "approved"
    assert document["customer"]["account"] == "US-001"


def test_unknown_text_is_left_out_so_required_fields_fail_instead_of_posting_blanks():
    bare = Payment(
        gateway_txn_id="1",
        kind=PaymentKind.SALE,
        status=PaymentStatus.APPROVED,
        amount=Money.of("1"),
        occurred_at=datetime(2025, 3, 5, tzinfo=UTC),
        customer=Customer(name="Jo"),
    )

    document = source_document(bare)

    assert "order_ref" not in document["payment"] and "token" not in document["payment"]
    assert document["customer"] == {"name": "Jo", "is_organization": False}


def test_sections_not_given_are_absent_and_the_order_customer_is_used():
    document = source_document(order=ORDER, context={"line_number": 1})

    assert set(document) == {"customer", "order", "context"}
    assert document["customer"]["name"] == "Acme Stores Ltd"
    assert document["order"]["total"] == Decimal("125.50")
    assert document["order"]["lines"][1] == {
        "item_number": "D0002",
        "quantity": 1,
        "unit_price": Decimal("25.00"),
        "currency": "USD",
        "total": Decimal("25.00"),
    }


def test_enrichment_rows_become_exact_values():
    document = source_document(enrich={"d365_order": {"OrderTotalAmount": 84.1, "Lines": (1,)}})

    assert document["enrich"]["d365_order"] == {"OrderTotalAmount": Decimal("84.1"), "Lines": [1]}


def test_jsonable():
    assert jsonable({"d": date(2025, 4, 4), "k": PaymentKind.VOID}) == {
        "d": "2025-04-04",
        "k": "void",
    }
