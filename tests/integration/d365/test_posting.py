"""Payments become exactly one correct D365 posting: the posting flows against the F&O sandbox
and a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.domain import Customer, Money, Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.clock import ManualClock
from payledger.domain.errors import RateLimited
from payledger.domain.posting import LedgerOperation, PostingState
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals, place_lines
from payledger.flows.post_payment import (
    PostingRules,
    WaitingForOriginal,
    post_payment,
)
from payledger.stores.postings import SqlPostingStore
from tests.integration.d365.conftest import BASE

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-001"
)
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=10, parallel_requests=4)


@pytest.fixture
def store(database) -> SqlPostingStore:
    return SqlPostingStore(Queue(database, clock=ManualClock(WHEN)))


@pytest.fixture
def posting_ledger(ledger) -> D365PostingLedger:
    return D365PostingLedger(ledger)


def payment(txn: str, kind=PaymentKind.SALE, amount="25.00", **extra) -> Payment:
    return Payment(
        txn, kind, extra.pop("status", PaymentStatus.APPROVED), Money.of(amount), WHEN, **extra
    )


async def post(store, posting_ledger, templates, *payments: Payment) -> None:
    for inbox_id, item in enumerate(payments, 1):
        await post_payment(
            inbox_id, item, rules=RULES, templates=templates, ledger=posting_ledger, store=store
        )


async def lines(control, **match) -> list[dict]:
    rows = (
        await control.get("/_sandbox/state/CustomerPaymentJournalLines", params={"company": "usmf"})
    ).json()
    rows = rows if isinstance(rows, list) else rows["value"]
    return [row for row in rows if all(row.get(k) == v for k, v in match.items())]


async def test_sales_and_refunds_become_journal_lines_in_one_request(
    store, posting_ledger, templates, control
):
    sale = payment("9001", customer=Customer("Contoso", gateway_customer_id="nobody"))
    refund = payment("9002", PaymentKind.REFUND, "5.00", original_txn_id="9001")
    await post(store, posting_ledger, templates, sale, refund)
    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert (result.posted, result.dead, result.requests) == (2, 0, 1)
    [credit] = await lines(control, PaymentReference="PT-9001-PAY")
    [debit] = await lines(control, PaymentReference="PT-9002-REF")
    assert (
        Decimal(str(credit["CreditAmount"])) == Decimal("25.00")
        and Decimal(str(credit["DebitAmount"])) == 0
    )
    assert Decimal(str(debit["DebitAmount"])) == Decimal("5.00")
    assert credit["AccountDisplayValue"] == "US\\-001"  # the fallback account, escaped
    assert credit["JournalBatchNumber"] == debit["JournalBatchNumber"]
    assert credit["OffsetAccountDisplayValue"] == "USMF OPER"
    assert (await store.find("9001", LedgerOperation.PAYMENT)).state is PostingState.POSTED


async def test_the_same_event_twice_posts_one_line(store, posting_ledger, templates, control):
    await post(store, posting_ledger, templates, payment("9101"))
    await post(store, posting_ledger, templates, payment("9101", status=PaymentStatus.SETTLED))
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert len(await lines(control, PaymentReference="PT-9101-PAY")) == 1


async def test_a_refund_waits_for_its_sale(store, posting_ledger, templates):
    with pytest.raises(WaitingForOriginal, match="9201"):
        await post(
            store,
            posting_ledger,
            templates,
            payment("9202", PaymentKind.REFUND, original_txn_id="9201"),
        )


async def test_voids_cancel_remove_or_reverse(store, posting_ledger, templates, control):
    await post(store, posting_ledger, templates, payment("9301"), payment("9302"), payment("9303"))
    await post(
        store, posting_ledger, templates, payment("9301", status=PaymentStatus.VOIDED)
    )  # before sending
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert (await store.find("9301", LedgerOperation.PAYMENT)).state is PostingState.CANCELLED
    assert await lines(control, PaymentReference="PT-9301-PAY") == []

    await post(store, posting_ledger, templates, payment("9302", status=PaymentStatus.VOIDED))
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert (
        await lines(control, PaymentReference="PT-9302-PAY") == []
    )  # removed from the open journal

    [line] = await lines(control, PaymentReference="PT-9303-PAY")
    posted = await control.post(
        f"/_sandbox/journals/CustomerPaymentJournalHeaders/usmf/{line['JournalBatchNumber']}/post"
    )
    assert posted.status_code == 200, posted.text
    await post(store, posting_ledger, templates, payment("9303", status=PaymentStatus.VOIDED))
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    [reversal] = await lines(control, PaymentReference="PT-9303-REV")
    assert Decimal(str(reversal["DebitAmount"])) == Decimal("25.00")
    assert (
        reversal["JournalBatchNumber"] != line["JournalBatchNumber"]
    )  # a new journal: the old one is posted


async def test_a_refused_line_is_isolated_and_the_rest_post(
    store, posting_ledger, templates, control
):
    good = [payment(f"94{n:02d}") for n in range(7)]
    bad = payment("9499", custom_fields={"D365 Customer": "NO-SUCH-CUSTOMER"})
    await post(store, posting_ledger, templates, *good[:3], bad, *good[3:])
    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert (result.posted, result.dead) == (7, 1)
    dead = await store.find("9499", LedgerOperation.PAYMENT)
    assert dead.state is PostingState.DEAD
    assert "NO-SUCH-CUSTOMER" in dead.last_error or "not" in dead.last_error.lower()
    assert (
        len(
            await lines(
                control,
                JournalBatchNumber=(await lines(control, PaymentReference="PT-9400-PAY"))[0][
                    "JournalBatchNumber"
                ],
            )
        )
        >= 7
    )


async def test_an_order_gets_its_payment_status(store, posting_ledger, templates, control):
    auth = payment(
        "9501", PaymentKind.AUTHORIZATION, "40.00", order_ref="PG-ORDER-1001", auth_code="TAS9"
    )
    declined = payment(
        "9502",
        order_ref="PG-ORDER-1002",
        status=PaymentStatus.DECLINED,
        outcome=Outcome.HARD_DECLINE,
        message="Card reported stolen",
    )
    await post(store, posting_ledger, templates, auth, declined)
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    orders = (await control.get("/_sandbox/state/SalesOrderHeadersV2")).json()
    orders = orders if isinstance(orders, list) else orders["value"]
    by_reference = {row["CustomersOrderReference"]: row for row in orders}
    assert by_reference["PG-ORDER-1001"]["PaymentStatus"] == "Authorized"
    assert by_reference["PG-ORDER-1001"]["PaymentAuthId"] == "TAS9"
    assert by_reference["PG-ORDER-1002"]["PaymentStatus"] == "Declined"
    assert by_reference["PG-ORDER-1002"]["PaymentMessage"] == "Card reported stolen"
    assert (
        await lines(control, PaymentReference="PT-9501-PAY") == []
    )  # an authorization posts nothing


@pytest.fixture
async def impatient_ledger(credential, transport):
    """A ledger whose requests give up after 0.3 s, as against a server that stalls."""
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with D365Client(BASE, credential, transport=transport, retry=retry, timeout=0.3) as d365:
        yield D365PostingLedger(D365Ledger(d365, D365Settings(company="usmf")))


async def set_faults(control, **changes) -> None:
    answer = await control.put("/_sandbox/faults", json=changes)
    assert answer.status_code == 200, answer.text


async def test_a_write_that_commits_but_times_out_is_looked_up_not_doubled(
    store, posting_ledger, impatient_ledger, templates, control, sandbox
):
    await post(store, posting_ledger, templates, *(payment(f"96{n:02d}") for n in range(5)))
    await set_faults(control, drop_after_commit_rate=1.0)
    result = await flush_journals(FLUSH, store=store, ledger=impatient_ledger)
    await set_faults(control, drop_after_commit_rate=0.0)
    assert sandbox.state.faults.counts["dropped_after_commit"] >= 1
    assert result.posted == 5  # the lines were written; the lookup by reference proved it
    again = await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert (again.posted, again.requests) == (0, 0)  # nothing owed, nothing sent
    for n in range(5):
        assert len(await lines(control, PaymentReference=f"PT-96{n:02d}-PAY")) == 1


async def test_a_flush_whose_worker_died_mid_send_is_finished_by_the_next_at_once(
    store, posting_ledger, templates, control
):
    await post(store, posting_ledger, templates, *(payment(f"95{n:02d}") for n in range(4)))
    claimed = await store.claim("usmf", 10)
    placed = await place_lines("usmf", "CustPay", claimed[:2], store=store, ledger=posting_ledger)
    await posting_ledger.write(placed, [])  # ...and the worker was SIGKILLed right here

    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)  # clock unchanged

    assert result.posted == 4
    for n in range(4):
        assert len(await lines(control, PaymentReference=f"PT-95{n:02d}-PAY")) == 1
        assert (await store.find(f"95{n:02d}", LedgerOperation.PAYMENT)).state is (
            PostingState.POSTED
        )


async def test_a_flush_that_lost_its_lease_and_its_successor_never_number_a_line_twice(
    store, posting_ledger, templates, control
):
    """The worker of the first flush stalled past its lease: the next flush retook its lines
    while it was still going. Whichever numbers a line first sends it; the other skips it."""
    await post(store, posting_ledger, templates, *(payment(f"94{n:02d}") for n in range(4)))
    stalled = await store.claim("usmf", 10)
    successor = await store.claim("usmf", 10)  # retakes them all, as unknown
    assert {p.reference for p in successor} == {p.reference for p in stalled}

    first = await place_lines("usmf", "CustPay", successor[:2], store=store, ledger=posting_ledger)
    late = await place_lines("usmf", "CustPay", stalled, store=store, ledger=posting_ledger)
    rest = await place_lines("usmf", "CustPay", successor[2:], store=store, ledger=posting_ledger)

    assert [p.reference for p in first] == ["PT-9400-PAY", "PT-9401-PAY"]
    assert [p.reference for p in late] == ["PT-9402-PAY", "PT-9403-PAY"]  # not the others
    assert rest == []  # the stalled flush numbered them first
    numbers = [p.line_number for p in (*first, *late)]
    assert len(set(numbers)) == 4
    for line in (*first, *late):
        kept = await store.find(line.gateway_txn_id, LedgerOperation.PAYMENT)
        assert (kept.journal_batch_number, kept.line_number) == (
            line.journal_batch_number,
            line.line_number,
        )


@pytest.fixture
async def hasty_ledger(credential, transport):
    """A ledger whose connector does not retry by itself: throttling reaches the flow at once."""
    async with D365Client(
        BASE,
        credential,
        transport=transport,
        retry=RetryPolicy(max_attempts=1, max_throttled_attempts=1),
    ) as d365:
        yield D365PostingLedger(D365Ledger(d365, D365Settings(company="usmf")))


async def test_throttling_owes_everything_again_and_backs_off(
    store, posting_ledger, hasty_ledger, templates, control
):
    await post(store, posting_ledger, templates, *(payment(f"97{n:02d}") for n in range(3)))
    await set_faults(control, rate_limit_rate=1.0, retry_after_s=1)
    with pytest.raises(RateLimited) as throttled:
        await flush_journals(FLUSH, store=store, ledger=hasty_ledger)
    await set_faults(control, rate_limit_rate=0.0)
    assert throttled.value.retry_after >= 1
    assert (await store.find("9700", LedgerOperation.PAYMENT)).state in (
        PostingState.PLANNED,
        PostingState.UNKNOWN,
    )
    result = await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    assert result.posted == 3


async def test_the_line_marks_the_invoice_found_by_enrichment(
    store, posting_ledger, templates, control
):
    invoices = (
        await control.get("/_sandbox/state/SalesInvoiceHeadersV2", params={"company": "usmf"})
    ).json()
    invoices = invoices if isinstance(invoices, list) else invoices["value"]
    invoice = invoices[0]["InvoiceNumber"]
    await post(store, posting_ledger, templates, payment("9801", invoice_ref=invoice))
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    [line] = await lines(control, PaymentReference="PT-9801-PAY")
    assert line["MarkedInvoice"] == invoice
    assert line["MarkedInvoiceCompany"] == "usmf"


async def test_payments_processed_together_find_their_invoices_in_one_read(
    store, posting_ledger, templates, control, sandbox
):
    invoices = (
        await control.get("/_sandbox/state/SalesInvoiceHeadersV2", params={"company": "usmf"})
    ).json()
    invoices = invoices if isinstance(invoices, list) else invoices["value"]
    numbers = [row["InvoiceNumber"] for row in invoices]
    assert len(numbers) >= 3
    before = sandbox.state.faults.counts.get("requests", 0)
    await asyncio.gather(
        *(
            post_payment(
                inbox_id,
                payment(f"93{inbox_id:02d}", invoice_ref=number.lower()),  # D365 ignores case
                rules=RULES,
                templates=templates,
                ledger=posting_ledger,
                store=store,
            )
            for inbox_id, number in enumerate(numbers, 1)
        )
    )
    assert sandbox.state.faults.counts.get("requests", 0) - before == 1
    for inbox_id, number in enumerate(numbers, 1):
        posting = await store.find(f"93{inbox_id:02d}", LedgerOperation.PAYMENT)
        assert posting.payload["MarkedInvoice"] == number


async def test_a_dead_posting_is_replayed_from_its_event(
    store, posting_ledger, templates, database
):
    from sqlalchemy import select

    from payledger.adapters.db.tables import audit_log, jobs
    from payledger.stores.postings import replay_dead_postings
    from payledger.views.overview import overview

    bad = payment("9901", custom_fields={"D365 Customer": "NO-SUCH-CUSTOMER"})
    await post(store, posting_ledger, templates, bad)
    await flush_journals(FLUSH, store=store, ledger=posting_ledger)
    seen = await overview(database)
    assert seen.postings[("payment", "dead")] == 1
    assert seen.dead_postings[0]["reference"] == "PT-9901-PAY"

    assert await replay_dead_postings(store.queue, actor="ops", references=["PT-9901-PAY"]) == 1
    assert await store.find("9901", LedgerOperation.PAYMENT) is None
    async with database.transaction() as conn:
        [job] = (await conn.execute(select(jobs).where(jobs.c.kind == "payment.process"))).all()
        audit = (await conn.execute(select(audit_log))).one()
    assert job.payload == {"inbox_id": 1}
    assert (audit.action, audit.subject) == ("posting.replay", "PT-9901-PAY")
