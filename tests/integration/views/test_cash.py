"""The cash picture read from the database, on SQLite and PostgreSQL, in per-payment and in
daily-summary mode."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from payledger.domain import PaymentKind
from payledger.domain.posting import LedgerOperation
from payledger.views.cash import CashPicture, cash_picture
from tests import cash_ledger as ledger

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 25, 10, 0, tzinfo=LA)
"""A Wednesday; the week began on Monday 2026-03-23."""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=LA)


def table(picture: CashPicture) -> dict[tuple[str, str, str], dict[str, str]]:
    """(period, currency, method) → flow → amount text, zero amounts left out."""
    return {
        (period.name, row.currency, row.method): {
            flow: str(money.amount) for flow, money in row.amounts.items() if money.amount
        }
        for period in picture.periods
        for row in period.rows
    }


async def seed_week(database) -> None:
    async with database.transaction() as conn:
        await ledger.journal(conn, "JB-0001", "2026-03-23", opened_at=local(23, 9), posted=True)
        await ledger.journal(conn, "JB-0003", "2026-03-23", opened_at=local(24, 8))
        await ledger.journal(conn, "JB-0002", "2026-03-25", opened_at=local(25, 0, 5))
        # Monday: one sale posted, one voided before its journal was posted (line removed),
        # one voided after (reversed by a line in a later, unposted journal).
        await ledger.paid(conn, "T3", "17.25", at=local(23, 11), journal="JB-0001")
        day = await ledger.paid(conn, "T4", "9.99", at=local(23, 12), journal="JB-0001")
        await ledger.voided(conn, "T4", "9.99", day=day, operation=LedgerOperation.REMOVAL)
        day = await ledger.paid(conn, "T5", "30.00", at=local(23, 13), journal="JB-0001")
        await ledger.voided(
            conn, "T5", "30.00", day=day, operation=LedgerOperation.REVERSAL, journal="JB-0003"
        )
        # Today: a card sale, an ACH sale and a card refund in today's unposted journal.
        await ledger.paid(conn, "T1", "42.00", at=local(25, 8), journal="JB-0002")
        await ledger.paid(
            conn, "T2", "100.00", at=local(25, 9), kind=PaymentKind.ACH_SALE, journal="JB-0002"
        )
        await ledger.paid(
            conn, "R1", "5.00", at=local(25, 9, 30), kind=PaymentKind.REFUND, journal="JB-0002"
        )
        # Around midnight: 23:59 on Tuesday is this week, not today; 00:01 today is today.
        await ledger.paid(conn, "T10", "1.00", at=local(24, 23, 59), state="planned")
        await ledger.paid(conn, "T11", "2.00", at=local(25, 0, 1), state="planned")
        # Sunday 23:59 is last week; a sale voided before it was sent is no money.
        await ledger.paid(conn, "T6", "3.00", at=local(22, 23, 59), journal="JB-0000")
        await ledger.paid(conn, "T7", "4.00", at=local(25, 7), state="cancelled")
        await ledger.paid(conn, "T8", "20.00", at=local(25, 7), currency="EUR", state="planned")
        # Settled: Monday's batch reconciled twice (the later run counts), ACH checks, a batch
        # of last week, a failed run, and a batch settled today.
        await ledger.reconciled(
            conn, "2026-03-23", "2026-03-23", [("501", "2026-03-23", {"USD": "59.25"})]
        )
        await ledger.reconciled(
            conn,
            "2026-03-23",
            "2026-03-23",
            [("501", "2026-03-23", {"USD": "60.00"}), ("ACH", "2026-03-23", {"USD": "80.00"})],
        )
        await ledger.reconciled(
            conn, "2026-03-20", "2026-03-20", [("499", "2026-03-20", {"USD": "999.00"})]
        )
        await ledger.reconciled(
            conn,
            "2026-03-25",
            "2026-03-25",
            [("777", "2026-03-25", {"USD": "555.00"})],
            status="failed",
        )
        await ledger.reconciled(
            conn, "2026-03-25", "2026-03-25", [("502", "2026-03-25", {"USD": "-3.50"})]
        )


async def test_today_and_this_week_by_currency_and_method(database):
    await seed_week(database)
    picture = await cash_picture(database, company="usmf", timezone="America/Los_Angeles", now=NOW)
    assert table(picture) == {
        ("today", "EUR", "card"): {"captured": "20.00"},
        ("today", "USD", "ach"): {"captured": "100.00", "unposted": "100.00"},
        ("today", "USD", "card"): {
            "captured": "44.00",
            "refunded": "5.00",
            "settled": "-3.50",
            "unposted": "37.00",
        },
        ("week", "EUR", "card"): {"captured": "20.00"},
        ("week", "USD", "ach"): {"captured": "100.00", "settled": "80.00", "unposted": "100.00"},
        ("week", "USD", "card"): {
            "captured": "62.25",
            "refunded": "5.00",
            "settled": "56.50",
            "posted": "47.25",
            "unposted": "7.00",
        },
    }
    assert (picture.today.first_day.isoformat(), picture.week.first_day.isoformat()) == (
        "2026-03-25",
        "2026-03-23",
    )


async def test_the_oldest_unposted_journal_with_its_age_and_net_amount(database):
    await seed_week(database)
    picture = await cash_picture(database, company="usmf", timezone="America/Los_Angeles", now=NOW)
    oldest = picture.oldest_unposted
    assert oldest is not None
    assert (oldest.batch_number, oldest.business_day, str(oldest.amount)) == (
        "JB-0003",
        "2026-03-23",
        "-30.00 USD",
    )
    assert oldest.age_seconds == 26 * 3600  # opened Tuesday 08:00, now Wednesday 10:00
    async with database.transaction() as conn:
        await ledger.post(conn, "JB-0003", NOW.astimezone(UTC))
    after = await cash_picture(database, company="usmf", timezone="America/Los_Angeles", now=NOW)
    assert after.oldest_unposted is not None
    assert (after.oldest_unposted.batch_number, str(after.oldest_unposted.amount)) == (
        "JB-0002",
        "137.00 USD",
    )


async def test_an_empty_ledger_has_no_rows_and_no_unposted_journal(database):
    picture = await cash_picture(database, company="usmf", timezone="Europe/Berlin", now=NOW)
    assert picture.today.rows == () and picture.week.rows == ()
    assert picture.oldest_unposted is None


async def seed_summary_week(database) -> None:
    """Daily-summary mode: detail rows kept from the payments' events, summary lines."""
    async with database.transaction() as conn:
        await ledger.journal(conn, "JS-0001", "2026-03-24", opened_at=local(24, 9), posted=True)
        await ledger.journal(conn, "JS-0002", "2026-03-24", opened_at=local(24, 10))
        # Batch 600 (Monday's sale, Tuesday's refund), settled Tuesday, its lines posted;
        # its fee line is no customer money.
        await ledger.kept(conn, "S1", "100.00", day="2026-03-23", batch="600",
                          line="PT-SUM-600-VISA")  # fmt: skip
        await ledger.kept(conn, "S3", "-15.00", day="2026-03-24", batch="600",
                          line="PT-SUM-600-VISA")  # fmt: skip
        await ledger.summary_line(conn, "600", "VISA", "85.00", day="2026-03-24",
                                  journal="JS-0001")  # fmt: skip
        await ledger.summary_line(conn, "600", "FEE", "-3.20", day="2026-03-24",
                                  journal="JS-0001")  # fmt: skip
        # Tuesday's checks, their line written in a journal not posted yet (with a fee line).
        await ledger.kept(conn, "S4", "200.00", day="2026-03-24", method="ACH",
                          batch="ACH-20260324", line="PT-SUM-ACH-20260324-ACH")  # fmt: skip
        await ledger.summary_line(conn, "ACH-20260324", "ACH", "200.00", day="2026-03-24",
                                  journal="JS-0002")  # fmt: skip
        await ledger.summary_line(conn, "ACH-20260324", "FEE", "-1.00", day="2026-03-24",
                                  journal="JS-0002")  # fmt: skip
        # A line owed, not written yet: settled, neither posted nor unposted.
        await ledger.summary_line(conn, "601", "AMEX", "60.00", day="2026-03-25",
                                  state="planned")  # fmt: skip
        # Today: a sale not settled yet, a voided one, one in euros.
        await ledger.kept(conn, "S2", "40.00", day="2026-03-25", method="MASTERCARD")
        await ledger.kept(conn, "S5", "9.00", day="2026-03-25", voided=True)
        await ledger.kept(conn, "S8", "20.00", day="2026-03-25", currency="EUR")
        # Before the switch: a sale with its own line, summarised into no line (counted once).
        await ledger.paid(conn, "S6", "70.00", at=local(23, 11), state="planned")
        await ledger.kept(conn, "S6", "70.00", day="2026-03-23", batch="600", line="PT-S6-PAY")
        # Last week.
        await ledger.kept(conn, "S7", "1000.00", day="2026-03-22")


async def test_summary_mode_counts_the_detail_rows_and_the_method_lines(database):
    await seed_summary_week(database)
    picture = await cash_picture(database, company="usmf", timezone="America/Los_Angeles", now=NOW)
    assert table(picture) == {
        ("today", "EUR", "card"): {"captured": "20.00"},
        ("today", "USD", "card"): {"captured": "40.00", "settled": "60.00"},
        ("week", "EUR", "card"): {"captured": "20.00"},
        ("week", "USD", "ach"): {"captured": "200.00", "settled": "200.00", "unposted": "200.00"},
        ("week", "USD", "card"): {
            "captured": "210.00",
            "refunded": "15.00",
            "settled": "145.00",  # batch 600's VISA line and batch 601's AMEX line, no fees
            "posted": "85.00",
        },
    }
    oldest = picture.oldest_unposted
    assert oldest is not None
    assert (oldest.batch_number, str(oldest.amount)) == ("JS-0002", "200.00 USD")


async def test_both_modes_in_one_week_add_up(database):
    await seed_week(database)
    await seed_summary_week(database)
    picture = await cash_picture(database, company="usmf", timezone="America/Los_Angeles", now=NOW)
    week = table(picture)[("week", "USD", "card")]
    assert week == {
        "captured": "272.25",  # 62.25 per payment + 210.00 in summary mode
        "refunded": "20.00",
        "settled": "201.50",  # 56.50 + 145.00
        "posted": "132.25",  # 47.25 + 85.00
        "unposted": "7.00",
    }
