"""The ledger loop against the F&O sandbox, on SQLite and PostgreSQL: payledger's lines are
written, the day's journal closes, a post D365 cannot take (its posting service missing)
leaves everything as it was and raises an alert, the post after the fix settles the invoices,
and nothing is posted twice or added to a posted journal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from payledger.adapters.d365 import D365Ledger
from payledger.adapters.d365.journal_service import D365JournalPoster
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.config import PostingSettings
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.clock import ManualClock
from payledger.domain.posting import JournalState, LedgerOperation, PostMode
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals
from payledger.flows.post_payment import PostingRules, post_payment
from payledger.flows.post_ready_journals import Parts, PostJournals, post_ready_journals
from payledger.stores.journals import SqlJournalBook
from payledger.stores.postings import SqlPostingStore
from tests.fakes_orders import FakeAlerts
from tests.integration.d365.journals import everything, invoice

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)  # 03:00 in Los Angeles
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-001"
)
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=10, parallel_requests=4)
POST = PostJournals(
    company="usmf",
    mode=PostMode.WHEN_BALANCED,
    timezone="America/Los_Angeles",
    close_after=timedelta(minutes=60),
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WHEN)


@pytest.fixture
def store(database, clock) -> SqlPostingStore:
    return SqlPostingStore(Queue(database, clock=clock))


async def pay(store, ledger, templates, txn: str, invoice_number: str, amount: str) -> None:
    payment = Payment(
        txn, PaymentKind.SALE, PaymentStatus.APPROVED, Money.of(amount), WHEN,
        invoice_ref=invoice_number,
    )  # fmt: skip
    await post_payment(
        int(txn), payment, rules=RULES, templates=templates, ledger=ledger, store=store
    )


async def posted_journals(control: httpx.AsyncClient) -> list[str]:
    state = (await control.get("/_sandbox/state")).json()
    return [journal["batch"] for journal in state["posted_journals"]]


async def test_a_refused_post_changes_nothing_and_the_post_after_the_fix_settles_once(
    ledger: D365Ledger, database, store, templates, control, clock
):
    full, partly = await invoice(control, "100.00"), await invoice(control, "80.00")
    posting_ledger = D365PostingLedger(ledger)
    await pay(store, posting_ledger, templates, "8001", full, "100.00")
    await pay(store, posting_ledger, templates, "8002", partly, "30.00")
    assert (await flush_journals(FLUSH, store=store, ledger=posting_ledger)).posted == 2
    [batch] = {(await store.find(t, LedgerOperation.PAYMENT)).journal_batch_number
               for t in ("8001", "8002")}  # fmt: skip
    book = SqlJournalBook(database, clock)
    poster = D365JournalPoster(ledger, PostingSettings(post="when_balanced"))
    alerts = FakeAlerts()
    parts = Parts(book, poster, alerts)

    # the day is not over: nothing closes, nothing is posted
    assert (await post_ready_journals(POST, parts, clock=clock)).closed == []
    assert await posted_journals(control) == []

    # the next morning, the posting service is not deployed: refused, D365 untouched
    before = await everything(control)
    await control.put("/_sandbox/faults", json={"service_answer": "missing"})
    clock.advance(seconds=(NEXT_MORNING - WHEN).total_seconds())
    await post_ready_journals(POST, parts, clock=clock)
    journal = await book.journal(batch)
    assert journal is not None and journal.state is JournalState.REFUSED
    assert "/api/services/PayledgerServices/PayledgerJournalService/postJournal" in (
        journal.post_error
    )
    assert any(batch in key for key, *_ in alerts.sent)
    assert await everything(control) == before
    assert await poster.open_invoice_amounts([full, partly]) == {
        full: Decimal("100.00"),
        partly: Decimal("80.00"),
    }

    # fixed: the next run posts it, and D365 settles the invoices
    await control.put("/_sandbox/faults", json={"service_answer": "normal"})
    clock.advance(minutes=5)
    await post_ready_journals(POST, parts, clock=clock)
    journal = await book.journal(batch)
    assert journal is not None and journal.state is JournalState.POSTED
    assert journal.posted_at == clock.now()
    assert (await poster.read_journal(batch)).is_posted
    assert await poster.open_invoice_amounts([full, partly]) == {
        full: Decimal(0),
        partly: Decimal("50.00"),
    }
    assert any(batch in key for key in alerts.cleared)

    # later runs never post it again
    clock.advance(minutes=5)
    await post_ready_journals(POST, parts, clock=clock)
    assert await posted_journals(control) == [batch]

    # a late payment of the same day goes to a new journal, never into the posted one
    await pay(store, posting_ledger, templates, "8003", partly, "10.00")
    assert (await flush_journals(FLUSH, store=store, ledger=posting_ledger)).posted == 1
    late = await store.find("8003", LedgerOperation.PAYMENT)
    assert late.journal_batch_number not in ("", batch)
    assert (await poster.read_journal(batch)).line_count == 2
