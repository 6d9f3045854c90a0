"""The posting classes: journals left unposted too long, and posted lines whose invoice D365
still holds open. Pure: the ERP's facts come in as :class:`PostingFacts`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from payledger.domain.reconcile.compare import amount_text
from payledger.domain.reconcile.model import Discrepancy, Item, LedgerEntry


class InvoiceBalance(NamedTuple):
    """An invoice as the ERP holds it now, in its currency's minor units."""

    open: int
    settled: int


@dataclass(frozen=True, slots=True)
class PostingFacts:
    """What the ERP says about the lines' invoices, and when the run looks.

    Attributes:
        marked: invoice each line marks, by ``line_id`` (lines marking none left out).
        invoices: balance of each marked invoice the ERP knows.
        today: the run's day (date ordinal).
        unposted_hours: how long a journal may stay unposted ([posting] unposted_alert_hours).
    """

    marked: Mapping[str, str] = field(default_factory=dict)
    invoices: Mapping[str, InvoiceBalance] = field(default_factory=dict)
    today: int = 0
    unposted_hours: float = 36.0


def journal_of(line: LedgerEntry) -> str:
    return line.line_id.rpartition("/")[0]


def posting_items(lines: Sequence[LedgerEntry], facts: PostingFacts) -> list[Item]:
    """One item per overdue unposted journal and per invoice its posted lines left open."""
    return _unposted(lines, facts) + _still_open(lines, facts)


def _unposted(lines: Sequence[LedgerEntry], facts: PostingFacts) -> list[Item]:
    journals: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if not line.posted:
            journals.setdefault(journal_of(line), []).append(index)
    items = []
    for journal, indexes in sorted(journals.items()):
        first = min(lines[i].day for i in indexes)
        # Lines carry days, not times: the hours since the end of the first line's day are at
        # least this many, so an item here is overdue for certain.
        hours = (facts.today - first - 1) * 24
        if hours >= facts.unposted_hours:
            note = f"journal {journal} unposted at least {hours} h after its first line's day"
            items.append(
                Item(Discrepancy.JOURNAL_UNPOSTED_OVERDUE, -1, indexes[0], True, note,
                     tuple(indexes[1:]))
            )  # fmt: skip
    return items


def _still_open(lines: Sequence[LedgerEntry], facts: PostingFacts) -> list[Item]:
    """A posted invoice payment should have settled the invoice by what the lines pay (net):
    still open with less settled than that means the posting did not settle it."""
    paying: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        invoice = facts.marked.get(line.line_id)
        if line.posted and invoice:
            paying.setdefault(invoice, []).append(index)
    items = []
    for invoice, indexes in sorted(paying.items()):
        balance = facts.invoices.get(invoice)
        paid = sum(lines[i].amount for i in indexes)
        if balance is None or balance.open <= 0 or balance.settled >= paid:
            continue
        currency = lines[indexes[0]].currency
        note = (
            f"invoice {invoice} still open ({amount_text(balance.open, currency)}); settled "
            f"{amount_text(balance.settled, currency)} of {amount_text(paid, currency)} paid"
        )
        items.append(
            Item(Discrepancy.POSTED_INVOICE_OPEN, -1, indexes[0], True, note, tuple(indexes[1:]))
        )
    return items
