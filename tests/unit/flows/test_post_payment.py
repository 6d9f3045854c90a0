"""Processing one payment: what it owes the ledger, decided once, waiting for what it depends on."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from payledger.domain import Customer, Money, Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.errors import MappingError
from payledger.domain.posting import Posting, PostingState
from payledger.flows.post_payment import (
    Posted,
    PostingRules,
    PostingTemplates,
    WaitingForOriginal,
    post_payment,
)
from payledger.mapping import compile_template, default_templates, example_settings
from tests.fakes import FakeLedger, FakePostingStore, FakeStoreJournal

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-FALLBACK"
)

Process = Callable[..., Awaitable[Posted]]


@pytest.fixture(scope="module")
def templates() -> PostingTemplates:
    defaults, settings = default_templates(), example_settings()
    return PostingTemplates(
        journal_line=compile_template(defaults["d365_payment_journal_line"], settings),
        order_status=compile_template(defaults["d365_order_payment_status"], settings),
    )


@pytest.fixture
def store() -> FakePostingStore:
    return FakePostingStore()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def process(store: FakePostingStore, ledger: FakeLedger, templates: PostingTemplates) -> Process:
    """Process payments as the worker does, each its own inbox event."""
    inbox_ids = itertools.count(1)

    async def run(
        payment: Payment, *, rules: PostingRules = RULES, with_templates: Any = None
    ) -> Posted:
        return await post_payment(
            next(inbox_ids),
            payment,
            rules=rules,
            templates=with_templates or templates,
            ledger=ledger,
            store=store,
        )

    return run


def payment(
    txn: str,
    kind: PaymentKind = PaymentKind.SALE,
    amount: str = "25.00",
    status: PaymentStatus = PaymentStatus.APPROVED,
    **extra: Any,
) -> Payment:
    return Payment(txn, kind, status, Money.of(amount), extra.pop("occurred_at", WHEN), **extra)


def refund(txn: str, of: str, amount: str = "5.00", **extra: Any) -> Payment:
    return payment(txn, PaymentKind.REFUND, amount, original_txn_id=of, **extra)


def voided(original: Payment) -> Payment:
    return Payment(
        original.gateway_txn_id,
        original.kind,
        PaymentStatus.VOIDED,
        original.amount,
        original.occurred_at,
        original_txn_id=original.original_txn_id,
        order_ref=original.order_ref,
        customer=original.customer,
    )


def declined(txn: str, reason: str, **extra: Any) -> Payment:
    return payment(
        txn,
        status=PaymentStatus.DECLINED,
        outcome=Outcome.HARD_DECLINE,
        message=reason,
        **extra,
    )


def sent(store: FakePostingStore, reference: str, *, journal: str, line_number: int) -> Posting:
    """The posting was written to ``journal`` as line ``line_number``."""
    return store.change(
        reference, state=PostingState.POSTED, journal_batch_number=journal, line_number=line_number
    )


# --- sales and captures ------------------------------------------------------------------


async def test_a_sale_is_owed_as_one_line_crediting_the_customer_and_offsetting_clearing(
    process, store
):
    posted = await process(payment("1001"))
    [line] = posted.owed
    assert (line.reference, line.operation, line.amount) == (
        "PT-1001-PAY",
        "payment",
        Money.of("25.00"),
    )
    assert line.payload["CreditAmount"] == Decimal("25.00")
    assert line.payload["DebitAmount"] == 0
    assert line.payload["PaymentReference"] == "PT-1001-PAY"
    assert line.payload["OffsetAccountDisplayValue"] == "USMF OPER"
    assert line.payload["JournalBatchNumber"] == "PENDING"  # the flush puts the journal in
    assert store.state_of("PT-1001-PAY") is PostingState.PLANNED
    assert store.events == {1: ("processed", None)}
    assert store.flushes_due == ["usmf"]
    assert posted.new == 1


async def test_a_line_belongs_to_the_companys_calendar_day_not_the_utc_one(process):
    late_evening = datetime(2026, 3, 25, 4, 30, tzinfo=UTC)  # 21:30 on the 24th in LA
    [line] = (await process(payment("1002", occurred_at=late_evening))).owed
    assert line.business_day == "2026-03-24"


async def test_the_same_payment_seen_again_is_owed_only_once(process, store):
    await process(payment("1003"))
    again = await process(payment("1003", status=PaymentStatus.SETTLED))
    assert again.new == 0
    assert list(store.postings) == ["PT-1003-PAY"]
    assert store.flushes_due == ["usmf"]  # no second flush for nothing new
    assert store.events[2] == ("processed", None)


@pytest.mark.parametrize("kind", [PaymentKind.CAPTURE, PaymentKind.ACH_SALE])
async def test_captures_and_ach_sales_credit_the_customer_like_a_sale(process, kind):
    [line] = (await process(payment("1004", kind))).owed
    assert (line.operation, line.payload["CreditAmount"]) == ("payment", Decimal("25.00"))


async def test_a_paid_order_gets_its_status_with_the_line(process, ledger):
    ledger.orders["SHOP-1"] = "SO-0001"
    line, order = (await process(payment("1005", order_ref="SHOP-1"))).owed
    assert line.reference == "PT-1005-PAY"
    assert (order.reference, order.operation) == ("OR-1005-PAID", "order:paid")
    assert order.payload["SalesOrderNumber"] == "SO-0001"
    assert order.payload["PaymentStatus"] == "Paid"


# --- the customer ------------------------------------------------------------------------


async def test_the_customer_is_found_by_the_gateway_id_in_its_extension_field(process, ledger):
    ledger.customers["pt-cust-7"] = "US-007"
    sale = payment(
        "1101",
        customer=Customer("Contoso", gateway_customer_id="pt-cust-7"),
        custom_fields={"D365 Customer": "US-999"},
    )
    [line] = (await process(sale)).owed
    assert line.customer_account == "US-007"
    assert line.payload["AccountDisplayValue"] == "US\\-007"  # escaped display value


async def test_without_an_erp_customer_the_discretionary_field_names_the_account(process, ledger):
    sale = payment(
        "1102",
        customer=Customer("Contoso", gateway_customer_id="pt-unknown"),
        custom_fields={"D365 Customer": "US-999"},
    )
    [line] = (await process(sale)).owed
    assert line.customer_account == "US-999"
    assert ("customer", "pt-unknown") in ledger.asked


async def test_without_either_the_configured_fallback_account_is_used(process):
    [line] = (await process(payment("1103"))).owed
    assert line.customer_account == "US-FALLBACK"


async def test_with_no_way_to_find_the_customer_the_payment_is_parked_and_nothing_is_owed(
    process, store
):
    no_fallback = PostingRules(company="usmf", timezone="America/Los_Angeles")
    with pytest.raises(MappingError, match=r"1104.*no customer account"):
        await process(payment("1104"), rules=no_fallback)
    assert store.postings == {}
    assert store.events == {}


async def test_a_refund_debits_the_customer_its_sale_was_credited_to(process, ledger):
    ledger.customers["pt-cust-7"] = "US-007"
    await process(payment("1105", customer=Customer("C", gateway_customer_id="pt-cust-7")))
    ledger.customers.clear()  # the refund does not depend on the lookup any more
    [line] = (await process(refund("1106", of="1105"))).owed
    assert (line.reference, line.operation) == ("PT-1106-REF", "refund")
    assert line.customer_account == "US-007"
    assert (line.payload["DebitAmount"], line.payload["CreditAmount"]) == (Decimal("5.00"), 0)


# --- waiting for the original ------------------------------------------------------------


async def test_a_refund_that_arrives_before_its_sale_waits_for_it(process, store):
    early = refund("1202", of="1201")
    with pytest.raises(WaitingForOriginal, match="1201") as waiting:
        await process(early)
    assert waiting.value.retryable
    assert store.postings == {}
    assert store.events == {}  # the event stays unprocessed, its age raises the alarm
    await process(payment("1201"))
    [line] = (await process(early)).owed
    assert line.reference == "PT-1202-REF"


async def test_an_ach_refund_waits_for_its_ach_sale_too(process):
    with pytest.raises(WaitingForOriginal):
        await process(payment("1204", PaymentKind.ACH_REFUND, "5.00", original_txn_id="1203"))


async def test_a_declined_refund_does_not_wait_and_owes_no_line(process, ledger):
    ledger.orders["SHOP-2"] = "SO-0002"
    declined_refund = refund(
        "1206",
        of="1205",
        status=PaymentStatus.DECLINED,
        outcome=Outcome.ERROR,
        message="Only settled transactions can be refunded.",
        order_ref="SHOP-2",
    )
    [order] = (await process(declined_refund)).owed
    assert order.operation == "order:declined"


# --- authorizations and declines ---------------------------------------------------------


async def test_an_authorization_updates_only_the_orders_extension_fields(process, ledger):
    ledger.orders["SHOP-3"] = "SO-0003"
    auth = payment("1301", PaymentKind.AUTHORIZATION, "40.00", order_ref="SHOP-3", auth_code="TAS9")
    [order] = (await process(auth)).owed
    assert (order.reference, order.operation) == ("OR-1301-AUTH", "order:authorized")
    assert order.payload == {
        "dataAreaId": "usmf",
        "SalesOrderNumber": "SO-0003",
        "PaymentStatus": "Authorized",
        "PaymentAuthId": "TAS9",
        "PaymentAmount": Decimal("40.00"),
    }


async def test_an_order_named_in_the_discretionary_field_is_used_without_a_lookup(process, ledger):
    auth = payment(
        "1302",
        PaymentKind.AUTHORIZATION,
        order_ref="SHOP-4",
        custom_fields={"D365 Order": "SO-0042"},
    )
    [order] = (await process(auth)).owed
    assert order.payload["SalesOrderNumber"] == "SO-0042"
    assert ("order", "SHOP-4") not in ledger.asked


async def test_an_order_the_erp_does_not_know_gets_no_update_but_the_line_is_still_owed(
    process,
):
    [line] = (await process(payment("1303", order_ref="SHOP-UNKNOWN"))).owed
    assert line.operation == "payment"


async def test_without_an_order_template_no_order_update_is_owed(process, ledger, templates):
    ledger.orders["SHOP-5"] = "SO-0005"
    lines_only = PostingTemplates(journal_line=templates.journal_line)
    [line] = (await process(payment("1304", order_ref="SHOP-5"), with_templates=lines_only)).owed
    assert line.operation == "payment"


async def test_a_decline_sets_the_orders_status_and_reason_and_posts_no_line(process, ledger):
    ledger.orders["SHOP-6"] = "SO-0006"
    [order] = (await process(declined("1305", "Card reported stolen", order_ref="SHOP-6"))).owed
    assert order.operation == "order:declined"
    assert order.payload["PaymentStatus"] == "Declined"
    assert order.payload["PaymentMessage"] == "Card reported stolen"


async def test_a_decline_without_an_order_owes_nothing_and_is_done(process, store):
    posted = await process(declined("1306", "Insufficient funds"))
    assert (posted.owed, posted.new) == ((), 0)
    assert store.events == {1: ("processed", None)}
    assert store.flushes_due == []


# --- voids -------------------------------------------------------------------------------


async def test_a_void_of_an_unsent_line_cancels_it_and_owes_no_line(process, store, ledger):
    ledger.orders["SHOP-7"] = "SO-0007"
    sale = payment("1401", order_ref="SHOP-7")
    await process(sale)
    [order] = (await process(voided(sale))).owed
    assert store.state_of("PT-1401-PAY") is PostingState.CANCELLED
    assert order.operation == "order:voided"
    assert ledger.requests == []


@pytest.mark.parametrize("state", [PostingState.SENDING, PostingState.UNKNOWN])
async def test_a_void_of_a_line_on_its_way_waits_for_its_outcome(process, store, state):
    sale = payment("1402")
    await process(sale)
    store.change("PT-1402-PAY", state=state)
    with pytest.raises(WaitingForOriginal, match="1402"):
        await process(voided(sale))
    assert store.state_of("PT-1402-PAY") is state
    assert len(store.postings) == 1


async def test_a_void_of_a_line_in_an_open_journal_removes_that_line(process, store, ledger):
    sale = payment("1403")
    await process(sale)
    journal = await ledger.open_payment_journal("payledger usmf 2026-03-24 USD #1")
    sent(store, "PT-1403-PAY", journal=journal, line_number=3)
    [removal] = (await process(voided(sale))).owed
    assert (removal.reference, removal.operation) == ("PT-1403-REM", "removal")
    assert removal.target_reference == "PT-1403-PAY"
    assert removal.payload == {"dataAreaId": "usmf", "JournalBatchNumber": journal, "LineNumber": 3}
    assert removal.business_day == "2026-03-24"


async def test_a_void_of_a_posted_line_posts_a_reversal(process, store, ledger):
    ledger.customers["pt-cust-8"] = "US-008"
    sale = payment("1404", customer=Customer("C", gateway_customer_id="pt-cust-8"))
    await process(sale)
    journal = await ledger.open_payment_journal("payledger usmf 2026-03-24 USD #1")
    store.journals.append(FakeStoreJournal("usmf", "2026-03-24", "USD", "CustPay", 1, journal))
    sent(store, "PT-1404-PAY", journal=journal, line_number=1)
    ledger.post_journal(journal)
    [reversal] = (await process(voided(sale))).owed
    assert (reversal.reference, reversal.operation) == ("PT-1404-REV", "reversal")
    assert reversal.target_reference == "PT-1404-PAY"
    assert reversal.customer_account == "US-008"
    assert (reversal.payload["DebitAmount"], reversal.payload["CreditAmount"]) == (
        Decimal("25.00"),
        0,
    )
    assert store.journals[0].closed  # later lines of the day go to a new journal


async def test_a_void_processed_twice_owes_one_reversal(process, store, ledger):
    sale = payment("1405")
    await process(sale)
    journal = await ledger.open_payment_journal("j")
    sent(store, "PT-1405-PAY", journal=journal, line_number=1)
    ledger.post_journal(journal)
    await process(voided(sale))
    again = await process(voided(sale))
    assert again.new == 0
    assert sorted(store.postings) == ["PT-1405-PAY", "PT-1405-REV"]


async def test_a_void_processed_again_after_its_removal_never_also_posts_a_reversal(
    process, store, ledger
):
    """A worker that dies after the void was recorded runs it again; by then the removal may
    have been sent and the journal posted. The void is already handled: nothing more is owed."""
    sale = payment("1406")
    await process(sale)
    journal = await ledger.open_payment_journal("j")
    sent(store, "PT-1406-PAY", journal=journal, line_number=1)
    await process(voided(sale))
    store.change("PT-1406-REM", state=PostingState.POSTED)
    ledger.post_journal(journal)
    again = await process(voided(sale))
    assert again.new == 0
    assert sorted(store.postings) == ["PT-1406-PAY", "PT-1406-REM"]


async def test_a_void_whose_removal_was_refused_as_the_journal_got_posted_reverses_instead(
    process, store, ledger
):
    sale = payment("1420")
    await process(sale)
    journal = await ledger.open_payment_journal("j")
    sent(store, "PT-1420-PAY", journal=journal, line_number=1)
    await process(voided(sale))
    store.change("PT-1420-REM", state=PostingState.DEAD, last_error="400 the journal is posted")
    ledger.post_journal(journal)
    [reversal] = (await process(voided(sale))).owed
    assert (reversal.reference, reversal.target_reference) == ("PT-1420-REV", "PT-1420-PAY")
    assert store.state_of("PT-1420-REV") is PostingState.PLANNED


async def test_a_void_of_a_line_that_went_dead_owes_no_line(process, store, ledger):
    ledger.orders["SHOP-8"] = "SO-0008"
    sale = payment("1407", order_ref="SHOP-8")
    await process(sale)
    store.change("PT-1407-PAY", state=PostingState.DEAD, last_error="400 no such customer")
    [order] = (await process(voided(sale))).owed
    assert order.operation == "order:voided"


async def test_a_void_of_an_authorization_only_updates_the_order(process, ledger):
    ledger.orders["SHOP-9"] = "SO-0009"
    auth = payment("1408", PaymentKind.AUTHORIZATION, order_ref="SHOP-9")
    await process(auth)
    [order] = (await process(voided(auth))).owed
    assert (order.operation, order.payload["PaymentStatus"]) == ("order:voided", "Voided")


async def test_a_void_of_an_unsent_refund_cancels_the_refund_line(process, store):
    await process(payment("1409"))
    refund_line = refund("1410", of="1409")
    await process(refund_line)
    posted = await process(voided(refund_line))
    assert posted.owed == ()
    assert store.state_of("PT-1410-REF") is PostingState.CANCELLED
    assert store.state_of("PT-1409-PAY") is PostingState.PLANNED


async def test_a_void_of_a_sent_refund_removes_it_from_its_open_journal(process, store, ledger):
    await process(payment("1411"))
    refund_line = refund("1412", of="1411")
    await process(refund_line)
    journal = await ledger.open_payment_journal("j")
    sent(store, "PT-1412-REF", journal=journal, line_number=2)
    [removal] = (await process(voided(refund_line))).owed
    assert (removal.operation, removal.target_reference) == ("removal", "PT-1412-REF")
    assert removal.payload["LineNumber"] == 2


async def test_a_void_of_a_refund_whose_journal_is_posted_is_parked_for_a_human(
    process, store, ledger
):
    """Reversing a refund needs a credit; a debit 'reversal' would refund the customer twice."""
    await process(payment("1413"))
    refund_line = refund("1414", of="1413")
    await process(refund_line)
    journal = await ledger.open_payment_journal("j")
    sent(store, "PT-1414-REF", journal=journal, line_number=2)
    ledger.post_journal(journal)
    with pytest.raises(MappingError, match="1414"):
        await process(voided(refund_line))
    assert sorted(store.postings) == ["PT-1413-PAY", "PT-1414-REF"]


# --- enrichment --------------------------------------------------------------------------


async def test_the_invoice_a_payment_names_is_looked_up_and_marked_on_its_line(process, ledger):
    ledger.rows[("d365_invoice", "INV-9")] = {
        "InvoiceNumber": "INV-9",
        "InvoiceCustomerAccountNumber": "US-003",
    }
    [line] = (await process(payment("1501", invoice_ref="INV-9"))).owed
    assert line.payload["MarkedInvoice"] == "INV-9"
    assert line.payload["MarkedInvoiceCompany"] == "usmf"
    assert ("d365_invoice", "INV-9") in ledger.asked


async def test_an_invoice_the_erp_does_not_know_leaves_the_line_unmarked(process):
    [line] = (await process(payment("1502", invoice_ref="INV-NONE"))).owed
    assert "MarkedInvoice" not in line.payload
    assert "MarkedInvoiceCompany" not in line.payload


async def test_a_void_seen_before_its_approval_keeps_the_late_approval_from_posting(process, store):
    """A webhook can fetch a sale while approved and commit it after the poller stored the
    void: the void leaves a cancelled line behind, so the late approval owes nothing."""
    sale = payment("1430")
    await process(voided(sale))
    assert store.state_of("PT-1430-PAY") is PostingState.CANCELLED
    late = await process(sale)
    assert late.new == 0
    assert store.state_of("PT-1430-PAY") is PostingState.CANCELLED
