"""The summary detail kept in ``summary_members``, on SQLite and PostgreSQL: a payment's row
from its first event, marked voided by a void in either order, once however often events are
delivered, then filled in by its settled batch."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from payledger.adapters.db.tables import summary_members
from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.posting import LedgerOperation
from payledger.domain.summary import DetailRow, PaymentDetail
from payledger.engine.queue import Queue
from payledger.stores.summary import SqlSummaryStore

PAY, REF = LedgerOperation.PAYMENT, LedgerOperation.REFUND
CLOCK = ManualClock(datetime(2026, 3, 24, 18, 0, tzinfo=UTC))


def detail(txn: str, operation=PAY, *, voided: bool = False) -> PaymentDetail:
    return PaymentDetail(txn, "CARD", operation, Money.of("25.00"), "2026-03-23", voided)


async def rows(database) -> dict[str, tuple[str, str, str, str, str, bool]]:
    """Transaction → (batch, method, amount, line, business day, voided)."""
    async with database.transaction() as conn:
        found = (await conn.execute(select(summary_members))).all()
    return {
        r.txn_id: (r.batch_number, r.method, r.amount, r.line_reference, r.business_day, r.voided)
        for r in found
    }


async def test_events_keep_one_row_each_and_a_void_wins_in_either_order(database):
    store = SqlSummaryStore(Queue(database, clock=CLOCK))
    for kept in (
        detail("1"),
        detail("1"),  # redelivered
        detail("2"),
        detail("2", voided=True),  # void after its sale
        detail("3", voided=True),  # void before its sale...
        detail("3"),  # ...whose event comes late
        detail("4", REF),
    ):
        await store.keep_payment(kept, company="usmf")
    assert await rows(database) == {
        "1": ("", "CARD", "25.00", "", "2026-03-23", False),
        "2": ("", "CARD", "25.00", "", "2026-03-23", True),
        "3": ("", "CARD", "25.00", "", "2026-03-23", True),
        "4": ("", "CARD", "-25.00", "", "2026-03-23", False),
    }
    assert await store.voided(["1", "2", "3", "4", "5"], company="usmf") == {"2", "3"}
    assert await store.voided(["2"], company="other") == set()


async def test_a_settled_batch_fills_in_its_rows_and_adds_those_never_seen(database):
    store = SqlSummaryStore(Queue(database, clock=CLOCK))
    await store.keep_payment(detail("1"), company="usmf")
    await store.keep_payment(detail("2", voided=True), company="usmf")
    settled = [
        DetailRow("413", "1", "VISA", "payment", "25.00", "USD", "PT-SUM-413-VISA"),
        DetailRow("413", "2", "VISA", "payment", "25.00", "USD", ""),
        DetailRow("413", "9", "AMEX", "payment", "30.00", "USD", "PT-SUM-413-AMEX"),
    ]
    for _ in range(2):  # a reconciliation re-run changes nothing
        await store.record_summary(settled, [], company="usmf", business_day="2026-03-24")
    assert await rows(database) == {
        "1": ("413", "VISA", "25.00", "PT-SUM-413-VISA", "2026-03-23", False),
        "2": ("413", "VISA", "25.00", "", "2026-03-23", True),
        "9": ("413", "AMEX", "30.00", "PT-SUM-413-AMEX", "2026-03-24", False),
    }
