"""A stored ``SalesInvoicePostedBusinessEvent`` envelope read as the invoice auto-pay charges."""

from __future__ import annotations

from datetime import UTC, datetime

from payledger.adapters.d365.business_events import invoice_posted
from payledger.flows.auto_pay import InvoicePosted

RECEIVED = datetime(2026, 3, 24, 17, 5, tzinfo=UTC)


def test_the_invoice_customer_and_legal_entity_are_read_from_the_envelope():
    payload = {"InvoiceId": "CIV-000123", "InvoiceAccount": "US-001", "LegalEntity": "usmf"}
    assert invoice_posted(payload, RECEIVED) == InvoicePosted(
        invoice_number="CIV-000123",
        customer_account="US-001",
        legal_entity="usmf",
        received_at=RECEIVED,
    )


def test_the_business_event_legal_entity_stands_in_and_missing_fields_read_empty():
    posted = invoice_posted({"BusinessEventLegalEntity": "USMF", "InvoiceId": None}, RECEIVED)
    assert (posted.invoice_number, posted.customer_account, posted.legal_entity) == (
        "",
        "",
        "USMF",
    )
