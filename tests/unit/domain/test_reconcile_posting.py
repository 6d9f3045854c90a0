"""The posting classes: journals unposted past their deadline, posted lines leaving their
invoice open."""

from __future__ import annotations

from datetime import date

from payledger.domain.reconcile import (
    Discrepancy,
    InvoiceBalance,
    PostingFacts,
    posting_items,
    reconcile,
)
from payledger.domain.reconcile.report import ReportContext, build_report
from tests.unit.domain.reconcile_builders import DAY, PERIOD, RULES, line

D = Discrepancy


def at(line_id: str, amount: int = 5_000, *, day: int = DAY, posted: bool = False):
    return line(f"PT-{line_id}-PAY", amount, day=day, line_id=line_id)._replace(posted=posted)


def test_a_journal_is_overdue_once_its_first_days_end_is_the_deadline_ago():
    lines = [at("00007/1", day=DAY - 1), at("00007/2", day=DAY), at("00008/1", day=DAY)]
    facts = PostingFacts(today=DAY + 1, unposted_hours=24)  # 00007: 24 h since DAY-1 ended

    [item] = posting_items(lines, facts)

    assert (item.kind, item.line, item.more_lines, item.exception) == (
        D.JOURNAL_UNPOSTED_OVERDUE,
        0,
        (1,),
        True,
    )
    assert "journal 00007 unposted at least 24 h" in item.note
    assert posting_items(lines, PostingFacts(today=DAY + 1, unposted_hours=25)) == []


def test_posted_journals_are_never_overdue():
    lines = [at("00007/1", day=DAY - 30, posted=True)]
    assert posting_items(lines, PostingFacts(today=DAY, unposted_hours=1)) == []


def test_an_invoice_left_open_by_its_posted_payments_is_reported_once():
    lines = [
        at("00009/1", 2_000, posted=True),
        at("00009/2", 3_000, posted=True),
        at("00009/3", 1_000, posted=True),  # marks an invoice its payment settled
        at("00010/1", 4_000),  # unposted: not expected to have settled anything yet
    ]
    facts = PostingFacts(
        marked={
            "00009/1": "CIV-1",
            "00009/2": "CIV-1",
            "00009/3": "CIV-2",
            "00010/1": "CIV-3",
        },
        invoices={
            "CIV-1": InvoiceBalance(open=5_000, settled=2_000),
            "CIV-2": InvoiceBalance(open=500, settled=1_000),  # partly paid: fine
            "CIV-3": InvoiceBalance(open=4_000, settled=0),
        },
        today=DAY,
    )

    [item] = posting_items(lines, facts)

    assert (item.kind, item.line, item.more_lines) == (D.POSTED_INVOICE_OPEN, 0, (1,))
    assert item.note == "invoice CIV-1 still open (50.00); settled 20.00 of 50.00 paid"


def test_the_report_counts_and_lists_the_new_classes_apart_from_batches():
    lines = [at("00011/1", day=DAY - 5)]
    recon = reconcile([], lines, RULES, PERIOD)
    recon.notable.extend(posting_items(lines, PostingFacts(today=DAY)))
    context = ReportContext(1, "usmf", date(2026, 3, 1), date(2026, 3, 1), "now")

    report = build_report(recon, context)

    assert report["counts"]["journal_unposted_overdue"] == 1
    assert report["totals"]["by_batch"] == []  # a line-only item belongs to no batch
    [item] = [i for i in report["items"] if i["class"] == "journal_unposted_overdue"]
    assert item["d365_lines"] == ["00011/1"] and item["exception"]
