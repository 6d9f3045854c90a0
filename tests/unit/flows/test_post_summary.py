"""Daily-summary mode with fakes: a settled batch's lines are owed once and written once,
whatever the runs, crashes and lost answers; payments themselves owe no line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.errors import ConfigError
from payledger.domain.posting import LedgerOperation, Posting, PostingState
from payledger.domain.summary import DetailRow, SettledBatch, SummaryMember
from payledger.flows.post_journals import FlushJournals, flush_journals, place_lines
from payledger.flows.post_payment import PostingRules, PostingTemplates, post_payment
from payledger.flows.post_summary import SummaryPosting, SummaryTemplates, post_summary
from payledger.mapping import compile_template, default_templates, example_settings
from tests.fakes import FakeLedger, FakePostingStore, FakeSummaryStore

PAY, REF = LedgerOperation.PAYMENT, LedgerOperation.REFUND
FLUSH = FlushJournals(company="usmf", journal_name="CustPay", max_lines=1, parallel_requests=3)
SUMMARY_RULES = PostingRules(
    company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-1", summary=True
)
WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


def member(txn_id: str, method: str, amount: str, operation: LedgerOperation = PAY):
    return SummaryMember("413", txn_id, method, operation, Money.of(amount))


BATCH = SettledBatch(
    "413",
    date(2026, 3, 24),
    "USD",
    (
        member("10", "VISA", "100.00"),
        member("11", "VISA", "20.00", REF),
        member("12", "MASTERCARD", "50.00"),
    ),
    Money.of("3.20"),
)


@pytest.fixture(scope="module")
def templates() -> SummaryTemplates:
    defaults, settings = default_templates(), example_settings()
    return SummaryTemplates(
        line=compile_template(defaults["d365_payment_journal_summary_line"], settings),
        fee=compile_template(defaults["d365_payment_journal_summary_fee"], settings),
    )


@pytest.fixture
def postings() -> FakePostingStore:
    return FakePostingStore()


@pytest.fixture
def summary(postings: FakePostingStore, templates: SummaryTemplates) -> SummaryPosting:
    return SummaryPosting("usmf", templates, FakeSummaryStore(postings))


def amounts(ledger: FakeLedger) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        line["PaymentReference"]: (line["CreditAmount"], line["DebitAmount"])
        for line in ledger.lines()
    }


EXPECTED = {
    "PT-SUM-413-MASTERCARD": (Decimal("50.00"), Decimal("0.00")),
    "PT-SUM-413-VISA": (Decimal("80.00"), Decimal("0.00")),
    "PT-SUM-413-FEE": (0, Decimal("3.20")),
}


async def test_a_batch_becomes_one_line_per_method_and_a_fee_line(summary, postings):
    recorded = await post_summary(BATCH, summary)
    assert recorded.states == dict.fromkeys(EXPECTED, "new")
    ledger = FakeLedger()
    await flush_journals(FLUSH, store=postings, ledger=ledger)
    assert amounts(ledger) == EXPECTED
    fee = ledger.lines("PT-SUM-413-FEE")[0]
    fee_account = example_settings()["d365"]["fee_account"]
    assert (fee["AccountType"], fee["AccountDisplayValue"]) == ("Ledger", fee_account)
    [visa] = ledger.lines("PT-SUM-413-VISA")
    assert (visa["AccountType"], visa["PaymentMethodName"]) == ("Cust", "ELECTRONIC")
    detail = summary.store.detail
    assert {txn: (row.line_reference, row.amount) for txn, row in detail.items()} == {
        "10": ("PT-SUM-413-VISA", "100.00"),
        "11": ("PT-SUM-413-VISA", "-20.00"),
        "12": ("PT-SUM-413-MASTERCARD", "50.00"),
    }


async def test_the_same_batch_seen_again_owes_nothing_new(summary, postings):
    await post_summary(BATCH, summary)
    ledger = FakeLedger()
    await flush_journals(FLUSH, store=postings, ledger=ledger)
    postings.flushes_due.clear()
    again = await post_summary(BATCH, summary)
    assert again.states == dict.fromkeys(EXPECTED, "posted")
    assert postings.flushes_due == []
    await flush_journals(FLUSH, store=postings, ledger=ledger)
    assert [len(ledger.lines(ref)) for ref in EXPECTED] == [1, 1, 1]


async def test_lines_written_but_their_answer_lost_are_found_not_written_again(summary, postings):
    await post_summary(BATCH, summary)
    ledger = FakeLedger()
    ledger.commit_then_raise = 3  # every request is applied, every answer lost
    await flush_journals(FLUSH, store=postings, ledger=ledger)
    assert [len(ledger.lines(ref)) for ref in EXPECTED] == [1, 1, 1]
    assert {p.state for p in postings.postings.values()} == {PostingState.POSTED}


async def test_a_flush_that_died_after_writing_half_the_lines_writes_only_the_rest(
    summary, postings
):
    await post_summary(BATCH, summary)
    ledger = FakeLedger()
    claimed = await postings.claim("usmf", 10)  # the flush that dies: claimed, numbered...
    placed = await place_lines("usmf", "CustPay", claimed, store=postings, ledger=ledger)
    await ledger.write(placed[:1], [])  # ...wrote the first line, and was gone
    assert {p.state for p in postings.postings.values()} == {PostingState.SENDING}

    await flush_journals(FLUSH, store=postings, ledger=ledger)
    assert amounts(ledger) == EXPECTED
    assert [len(ledger.lines(ref)) for ref in EXPECTED] == [1, 1, 1]


async def test_transactions_with_a_per_payment_line_are_not_summed_again(summary, postings):
    earlier = Posting(
        "PT-10-PAY", "10", "payment", "usmf", "2026-03-23", Money.of("100.00"), {},
        state=PostingState.POSTED,
    )  # fmt: skip
    postings.add(earlier)
    recorded = await post_summary(BATCH, summary)
    visa = next(line for line in recorded.lines if line.method == "VISA")
    assert visa.amount == -Money.of("20.00")  # the refund alone: the sale has its own line
    assert summary.store.detail["10"].line_reference == "PT-10-PAY"


def payment(kind: PaymentKind, txn_id: str, status=PaymentStatus.APPROVED, original="") -> Payment:
    return Payment(
        gateway_txn_id=txn_id,
        kind=kind,
        status=status,
        amount=Money.of("25.00"),
        occurred_at=WHEN,
        original_txn_id=original,
        order_ref="SO-1",
    )


@pytest.fixture(scope="module")
def payment_templates() -> PostingTemplates:
    defaults, settings = default_templates(), example_settings()
    return PostingTemplates(
        journal_line=compile_template(defaults["d365_payment_journal_line"], settings),
        order_status=compile_template(defaults["d365_order_payment_status"], settings),
    )


async def process(*events: Payment, details: FakeSummaryStore, templates) -> FakePostingStore:
    """Each event through the posting flow in summary mode, in the order given."""
    store = details.postings
    ledger = FakeLedger(orders={"SO-1": "SO-000123"})
    for inbox_id, event in enumerate(events, start=1):
        await post_payment(
            inbox_id, event, rules=SUMMARY_RULES, templates=templates, ledger=ledger,
            store=store, details=details,
        )  # fmt: skip
    return store


def kept(details: FakeSummaryStore) -> dict[str, tuple[str, str, str, bool]]:
    """Transaction → (kind, signed amount, business day, voided) as the events left it."""
    return {
        txn: (row.kind, row.amount, details.days[txn], txn in details.voided_ids)
        for txn, row in details.detail.items()
    }


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        (payment(PaymentKind.SALE, "20"), {"20": ("payment", "25.00", "2026-03-24", False)}),
        (
            payment(PaymentKind.REFUND, "21", original="20"),  # after the sale's batch: no wait
            {"21": ("refund", "-25.00", "2026-03-24", False)},
        ),
        (
            payment(PaymentKind.SALE, "22", status=PaymentStatus.VOIDED),  # void before settling
            {"22": ("payment", "25.00", "2026-03-24", True)},
        ),
    ],
    ids=["sale", "refund_after_summary", "void_before_settlement"],
)
async def test_in_summary_mode_a_payment_owes_its_order_update_and_keeps_its_detail_at_once(
    event, detail, payment_templates
):
    details = FakeSummaryStore(FakePostingStore())
    store = await process(event, details=details, templates=payment_templates)
    [owed] = [p for p in store.postings.values()]
    assert owed.is_order_update
    assert not any(p.is_line for p in store.postings.values())
    assert store.events[1] == ("processed", None)
    assert kept(details) == detail
    assert details.detail[event.gateway_txn_id].batch == ""  # no batch until it settles


async def test_an_authorization_keeps_no_detail_its_capture_does(payment_templates):
    details = FakeSummaryStore(FakePostingStore())
    await process(payment(PaymentKind.AUTHORIZATION, "30"), details=details,
                  templates=payment_templates)  # fmt: skip
    assert details.detail == {}
    await process(payment(PaymentKind.CAPTURE, "30"), details=details, templates=payment_templates)
    assert kept(details) == {"30": ("payment", "25.00", "2026-03-24", False)}


@pytest.mark.parametrize("void_first", [False, True], ids=["void_after_sale", "void_first"])
async def test_a_void_marks_its_sale_voided_whichever_event_comes_first(
    void_first, payment_templates
):
    sale = payment(PaymentKind.SALE, "40")
    void = payment(PaymentKind.SALE, "40", status=PaymentStatus.VOIDED)
    events = (void, sale) if void_first else (sale, void)
    details = FakeSummaryStore(FakePostingStore())
    await process(*events, details=details, templates=payment_templates)
    assert kept(details) == {"40": ("payment", "25.00", "2026-03-24", True)}


async def test_an_event_delivered_again_keeps_one_row(payment_templates):
    details = FakeSummaryStore(FakePostingStore())
    sale = payment(PaymentKind.SALE, "50")
    await process(sale, sale, sale, details=details, templates=payment_templates)
    assert kept(details) == {"50": ("payment", "25.00", "2026-03-24", False)}


async def test_summary_mode_without_a_detail_store_is_a_configuration_error(payment_templates):
    with pytest.raises(ConfigError, match="summary detail store"):
        await post_payment(
            1, payment(PaymentKind.SALE, "60"), rules=SUMMARY_RULES,
            templates=payment_templates, ledger=FakeLedger(), store=FakePostingStore(),
        )  # fmt: skip


async def test_a_settling_batch_fills_in_the_rows_its_events_kept(summary, payment_templates):
    details = summary.store
    assert isinstance(details, FakeSummaryStore)
    early = replace(payment(PaymentKind.SALE, "10"), occurred_at=datetime(2026, 3, 23, 20, 0,
                                                                          tzinfo=UTC))  # fmt: skip
    await process(early, details=details, templates=payment_templates)
    await post_summary(BATCH, summary)
    assert details.detail["10"] == DetailRow(
        "413", "10", "VISA", "payment", "100.00", "USD", "PT-SUM-413-VISA"
    )  # the batch's method and amount, and the line it is summed into
    assert details.days["10"] == "2026-03-23"  # the day of its event, not of its batch
    assert details.days["12"] == "2026-03-24"  # never seen before: the batch's settled day


async def test_a_voided_transaction_in_a_batch_is_not_summed(summary, postings, payment_templates):
    details = summary.store
    assert isinstance(details, FakeSummaryStore)
    void = payment(PaymentKind.SALE, "12", status=PaymentStatus.VOIDED)
    await process(void, details=details, templates=payment_templates)
    recorded = await post_summary(BATCH, summary)
    assert {line.method for line in recorded.lines} == {"VISA", "FEE"}  # no MASTERCARD line
    assert details.detail["12"].line_reference == ""
    assert details.detail["12"].batch == "413"
