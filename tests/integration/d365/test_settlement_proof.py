"""The settlement proof (#15): payments that mark invoices go through payledger's posting path,
the journal is posted through the custom service, and D365 then holds each invoice's open
amount exactly as paid. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365Ledger, ODataQuery, field
from payledger.adapters.d365.journal_service import D365JournalPoster
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.config import PostingSettings
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.clock import ManualClock
from payledger.domain.posting import LedgerOperation
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals
from payledger.flows.post_payment import PostingRules, post_payment
from payledger.stores.postings import SqlPostingStore
from tests.integration.d365.journals import invoice

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-001"
)
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=10, parallel_requests=4)
OPEN = "1900-01-01T12:00:00Z"


@pytest.fixture
def store(database) -> SqlPostingStore:
    return SqlPostingStore(Queue(database, clock=ManualClock(WHEN)))


async def test_paid_partly_paid_and_twice_paid_invoices_read_back_field_by_field(
    ledger: D365Ledger, store, templates, control
):
    full = await invoice(control, "100.00")
    partly = await invoice(control, "80.00")
    twice = await invoice(control, "90.00")
    paid = {"7001": (full, "100.00"), "7002": (partly, "30.00")}
    paid |= {"7003": (twice, "20.00"), "7004": (twice, "25.00")}
    posting_ledger = D365PostingLedger(ledger)
    for inbox_id, (txn, (number, amount)) in enumerate(paid.items(), 1):
        payment = Payment(
            txn,
            PaymentKind.SALE,
            PaymentStatus.APPROVED,
            Money.of(amount),
            WHEN,
            invoice_ref=number,
        )
        await post_payment(
            inbox_id, payment, rules=RULES, templates=templates, ledger=posting_ledger, store=store
        )
    assert (await flush_journals(FLUSH, store=store, ledger=posting_ledger)).posted == 4
    postings = [await store.find(txn, LedgerOperation.PAYMENT) for txn in paid]
    [batch] = {p.journal_batch_number for p in postings}
    poster = D365JournalPoster(ledger, PostingSettings(post="when_balanced"))

    await poster.post_journal(batch)

    readback = await poster.read_journal(batch)
    assert (readback.is_posted, readback.line_count, readback.total) == (
        True,
        4,
        Decimal("175.00"),
    )
    lines = await ledger.client.collect(
        ODataQuery("CustomerPaymentJournalLines").where(
            field("dataAreaId").eq("usmf") & field("JournalBatchNumber").eq(batch)
        )
    )
    assert len(lines) == 4 and all(line["Voucher"].startswith("ARPM") for line in lines)
    assert {line["MarkedInvoice"] for line in lines} == {full, partly, twice}
    day = lines[0]["TransactionDate"]

    assert await poster.open_invoice_amounts([full, partly, twice]) == {
        full: Decimal(0),
        partly: Decimal("50.00"),
        twice: Decimal("45.00"),
    }
    transactions = await ledger.client.collect(
        ODataQuery("CustTransactions")
        .where(field("dataAreaId").eq("usmf") & field("AccountNum").eq("US-001"))
        .select("Invoice", "AmountCur", "SettleAmountCur", "Closed")
    )
    held = {
        row["Invoice"]: (row["AmountCur"], row["SettleAmountCur"], row["Closed"])
        for row in transactions
        if row["Invoice"]
    }
    assert held[full] == (Decimal("100.00"), Decimal("100.00"), day)
    assert held[partly] == (Decimal("80.00"), Decimal("30.00"), OPEN)
    assert held[twice] == (Decimal("90.00"), Decimal("45.00"), OPEN)
