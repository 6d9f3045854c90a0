"""Daily-summary mode against both sandboxes, on SQLite and PostgreSQL: a settled batch of
card sales, a refund and fees, and a day of checks, become exactly the expected summary lines
in D365; the detail lists every transaction; running again changes nothing. The cash picture
shows the money from the payments' events on, and the summary lines once written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from payledger.adapters.d365.odata import escape_display_value
from payledger.adapters.db.tables import jobs, postings
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.bootstrap import reconcile_policy
from payledger.config import Settings
from payledger.domain.clock import ManualClock
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals
from payledger.flows.post_payment import PostingRules, PostingTemplates, post_payment
from payledger.flows.post_summary import SummaryPosting, SummaryTemplates
from payledger.flows.reconcile_period import ReconcileCommand, reconcile_period
from payledger.mapping import compile_template, default_templates
from payledger.stores.postings import SqlPostingStore
from payledger.stores.reconciliation import POST_DEPOSIT, SqlReconStore, batch_of
from payledger.stores.summary import SqlSummaryStore, summary_detail
from payledger.templates import template_settings
from payledger.views.cash import CashPicture, cash_picture
from tests.integration.reconcile.conftest import AMEX, DAY, MASTERCARD, Scenario

CUSTOMER = escape_display_value("US-003")
"""The summary customer account, as D365 shows it."""
NOW = ManualClock(datetime(2026, 3, 25, 10, 0, tzinfo=UTC))
SETTINGS = Settings(
    d365={"fee_account": "618160", "summary_customer_account": "US-003"},
    posting={"granularity": "daily_summary"},
    reconcile={"fees": {"VISA": {"percent": "2.9", "fixed": "0.30"}}, "deposits": True},
)


def summary(database) -> SummaryPosting:
    values, defaults = template_settings(SETTINGS), default_templates()
    return SummaryPosting(
        "usmf",
        SummaryTemplates(
            line=compile_template(defaults["d365_payment_journal_summary_line"], values),
            fee=compile_template(defaults["d365_payment_journal_summary_fee"], values),
        ),
        SqlSummaryStore(Queue(database, clock=NOW)),
    )


async def seed(sandboxes) -> Scenario:
    s = Scenario(sandboxes)
    paytrace, clock = sandboxes.paytrace, sandboxes.paytrace_clock
    earlier = await s.sale("earlier", "80.00")
    await paytrace.settle()  # 2026-03-21: summarised by that day's run, not this one
    clock.advance_to(datetime(2026, 3, 24, 17, 0, tzinfo=UTC))
    refund = await paytrace.refund_transaction(int(earlier), Decimal("20.00"))
    s.txns["refund"] = str(refund.transaction_id)  # lands in the 24th's batch
    await s.sale("visa", "100.00")
    await s.sale("visa2", "50.00")
    await s.sale("mastercard", "25.00", card=MASTERCARD)
    await s.sale("amex", "40.00", card=AMEX)
    await s.sale("voided", "12.00")
    await paytrace.void(int(s.txns["voided"]))  # void before settlement: in no batch
    await s.ach_sale("ach", "310.00")
    s.batch = str((await paytrace.settle()).batch_number)
    return s


async def reconcile(sandboxes, database):
    return await reconcile_period(
        ReconcileCommand(DAY, DAY),
        policy=reconcile_policy(SETTINGS),
        gateway=sandboxes.settlement(),
        ledger=sandboxes.lines(),
        store=SqlReconStore(Inbox(Queue(database, clock=NOW))),
        clock=NOW,
        summary=summary(database),
    )


async def flush(sandboxes, database) -> None:
    store = SqlPostingStore(Queue(database, clock=NOW))
    cmd = FlushJournals(company="usmf", journal_name="CustPay", max_lines=50)
    await flush_journals(cmd, store=store, ledger=sandboxes.posting_ledger())


async def summary_lines(sandboxes) -> dict[str, tuple[str, str, Decimal, Decimal]]:
    rows = await sandboxes.rows("CustomerPaymentJournalLines")
    return {
        row["PaymentReference"]: (
            row["AccountType"],
            row["AccountDisplayValue"],
            Decimal(str(row["CreditAmount"])),
            Decimal(str(row["DebitAmount"])),
        )
        for row in rows
        if row["PaymentReference"].startswith("PT-SUM-")
    }


async def count(database, table, *where) -> int:
    async with database.transaction() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)))


async def test_a_settled_day_becomes_its_summary_lines_once(sandboxes, database):
    s = await seed(sandboxes)
    first = await reconcile(sandboxes, database)
    b = s.batch
    expected = {
        f"PT-SUM-{b}-AMEX": ("Cust", CUSTOMER, Decimal("40.00"), Decimal("0")),
        f"PT-SUM-{b}-MASTERCARD": ("Cust", CUSTOMER, Decimal("25.00"), Decimal("0")),
        f"PT-SUM-{b}-VISA": ("Cust", CUSTOMER, Decimal("130.00"), Decimal("0")),  # 150 - 20
        f"PT-SUM-{b}-FEE": ("Ledger", "618160", Decimal("0"), Decimal("4.95")),  # Visa sales
        "PT-SUM-ACH-20260324-ACH": ("Cust", CUSTOMER, Decimal("310.00"), Decimal("0")),
    }
    assert first.report["granularity"] == "daily_summary"
    assert first.report["counts"]["missing_in_d365"] == len(expected)
    assert first.exceptions == 0  # owed by this run, on their way: not exceptions
    assert {i["reference"]: i["heal"] for i in first.report["items"]} == dict.fromkeys(
        expected, "enqueued"
    )

    await flush(sandboxes, database)
    assert await summary_lines(sandboxes) == expected

    detail = await summary_detail(database, "usmf", [b, "ACH-20260324"])
    assert sorted((row.txn_id, row.method, row.kind, row.amount, row.line_reference)
                  for row in detail) == sorted([
        (s.txns["refund"], "VISA", "refund", "-20.00", f"PT-SUM-{b}-VISA"),
        (s.txns["visa"], "VISA", "payment", "100.00", f"PT-SUM-{b}-VISA"),
        (s.txns["visa2"], "VISA", "payment", "50.00", f"PT-SUM-{b}-VISA"),
        (s.txns["mastercard"], "MASTERCARD", "payment", "25.00", f"PT-SUM-{b}-MASTERCARD"),
        (s.txns["amex"], "AMEX", "payment", "40.00", f"PT-SUM-{b}-AMEX"),
        (s.txns["ach"], "ACH", "payment", "310.00", "PT-SUM-ACH-20260324-ACH"),
    ])  # fmt: skip

    [deposit] = [
        batch_of(job.payload)
        for job in await _jobs(database)
        if job.kind == POST_DEPOSIT and job.payload["number"] == b
    ]
    assert (deposit.net.amount, deposit.fees.amount) == (Decimal("190.05"), Decimal("0.00"))

    owed = await count(database, postings)
    second = await reconcile(sandboxes, database)
    await flush(sandboxes, database)
    assert (second.exceptions, second.report["counts"]["matched"]) == (0, len(expected))
    assert await count(database, postings) == owed
    assert await summary_lines(sandboxes) == expected


async def test_a_summary_line_changed_in_d365_is_an_amount_mismatch(sandboxes, database):
    s = await seed(sandboxes)
    await reconcile(sandboxes, database)
    await flush(sandboxes, database)
    [visa] = await sandboxes.rows(
        "CustomerPaymentJournalLines", PaymentReference=f"PT-SUM-{s.batch}-VISA"
    )
    key = {
        "dataAreaId": "usmf",
        "JournalBatchNumber": visa["JournalBatchNumber"],
        "LineNumber": Decimal(str(visa["LineNumber"])),
    }
    await sandboxes.d365.update(
        "CustomerPaymentJournalLines", key, {"CreditAmount": Decimal("129")}
    )
    again = await reconcile(sandboxes, database)
    [item] = again.report["items"]
    assert (item["class"], item["reference"], item["d365_amount"]) == (
        "amount_mismatch",
        f"PT-SUM-{s.batch}-VISA",
        "129.00",
    )
    assert again.exceptions == 1


async def process_events(sandboxes, database) -> None:
    """What the worker does with the day's payment events in summary mode (the batch has
    closed at PayTrace; reconciliation has not run)."""
    values, defaults = template_settings(SETTINGS), default_templates()
    templates = PostingTemplates(
        journal_line=compile_template(defaults["d365_payment_journal_line"], values),
        order_status=compile_template(defaults["d365_order_payment_status"], values),
    )
    rules = PostingRules(company="usmf", timezone="America/Los_Angeles", summary=True)
    store = SqlPostingStore(Queue(database, clock=NOW))
    details = SqlSummaryStore(Queue(database, clock=NOW))
    payments = await PayTraceGateway(sandboxes.paytrace).payments_on(DAY)
    for inbox_id, payment in enumerate(payments, start=1):
        await post_payment(
            inbox_id, payment, rules=rules, templates=templates,
            ledger=sandboxes.posting_ledger(), store=store, details=details,
        )  # fmt: skip


async def picture(database) -> dict[str, dict[str, str]]:
    """This week's USD cash by method: flow → amount, zero amounts left out."""
    cash: CashPicture = await cash_picture(
        database, company="usmf", timezone="America/Los_Angeles", now=NOW.now()
    )
    return {
        row.method: {flow: str(m.amount) for flow, m in row.amounts.items() if m.amount}
        for row in cash.week.rows
        if row.currency == "USD"
    }


async def test_the_cash_picture_has_the_money_before_reconciliation_and_the_lines_after(
    sandboxes, database
):
    await seed(sandboxes)
    await process_events(sandboxes, database)
    captured = {
        "card": {"captured": "215.00", "refunded": "20.00"},  # 100 + 50 + 25 + 40, void left out
        "ach": {"captured": "310.00"},
    }
    assert await picture(database) == captured
    assert await count(database, postings) == 0  # no line per payment in summary mode

    await reconcile(sandboxes, database)
    await flush(sandboxes, database)
    lines = {"card": "195.00", "ach": "310.00"}  # 130 + 25 + 40: fees are no customer money
    assert await picture(database) == {
        method: {**captured[method], "settled": lines[method], "unposted": lines[method]}
        for method in captured
    }


async def _jobs(database):
    async with database.transaction() as conn:
        return (await conn.execute(select(jobs))).all()
