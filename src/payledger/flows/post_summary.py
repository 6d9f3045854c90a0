"""Post a settled batch in daily-summary mode: its method lines and fee line, owed once.

The batch's lines (``domain.summary``) are mapped with the summary templates and recorded as
ordinary postings keyed by (``batch:<n>``, ``summary:<method>``) with the reference
``PT-SUM-<n>-<method>``, together with the batch's per-transaction detail, in one
transaction. The journal flush then writes them exactly once, like any other line: numbered
before they are sent, looked up by reference after a lost answer. Seeing the batch again (a
reconciliation re-run) records nothing new. Transactions that already have a per-payment line
(posted before the switch to summary mode) are not summed again, nor are those whose detail
row an event marked voided.

Most members already have a detail row, kept by ``flows.post_payment`` from their events:
the batch fills in its batch number, method and line; a transaction payledger never saw an
event of gets its row here, dated the batch's settled day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from payledger.domain.posting import Posting, payment_reference
from payledger.domain.summary import (
    DetailRow,
    SettledBatch,
    SummaryLine,
    SummaryMember,
    summary_lines,
)
from payledger.flows.ports import SummaryStore
from payledger.mapping import CompiledTemplate, source_document

PENDING_JOURNAL = "PENDING"
"""Placeholder journal number in a mapped line; the flush puts the real one in."""


@dataclass(frozen=True)
class SummaryTemplates:
    line: CompiledTemplate
    fee: CompiledTemplate


@dataclass(frozen=True)
class SummaryPosting:
    """What summary mode posts with: the company, its templates and the store."""

    company: str
    templates: SummaryTemplates
    store: SummaryStore


@dataclass(frozen=True)
class SummaryRecorded:
    """A batch's lines, and where each stands (``new`` or its posting's state)."""

    lines: tuple[SummaryLine, ...]
    states: dict[str, str]


async def post_summary(batch: SettledBatch, summary: SummaryPosting) -> SummaryRecorded:
    """Owe ``batch``'s summary lines and keep its detail, exactly once."""
    ids = [m.txn_id for m in batch.members]
    per_payment = await summary.store.lines_per_payment(ids)
    skipped = per_payment | await summary.store.voided(ids, company=summary.company)
    summed = replace(batch, members=tuple(m for m in batch.members if m.txn_id not in skipped))
    lines = summary_lines(summed)
    written = {line.reference for line in lines}
    detail = [
        DetailRow(
            batch=m.batch,
            txn_id=m.txn_id,
            method=m.method,
            kind=m.operation.value,
            amount=str(m.signed.amount),
            currency=m.amount.currency,
            line_reference=_line_of(m, per_payment, skipped, written),
        )
        for m in batch.members
    ]
    postings = [_posting(line, summary) for line in lines]
    states = await summary.store.record_summary(
        detail, postings, company=summary.company, business_day=batch.settled_on.isoformat()
    )
    return SummaryRecorded(tuple(lines), states)


def _line_of(
    member: SummaryMember, per_payment: set[str], skipped: set[str], written: set[str]
) -> str:
    """The reference of the line ``member`` is in: its own, its batch's, or none (voided, or
    in a method whose net is zero)."""
    if member.txn_id in per_payment:
        return payment_reference(member.txn_id, member.operation)
    if member.txn_id in skipped or member.reference not in written:
        return ""
    return member.reference


def _posting(line: SummaryLine, summary: SummaryPosting) -> Posting:
    amount = line.amount.amount
    context: dict[str, Any] = {
        "journal_batch_number": PENDING_JOURNAL,
        "line_number": 0,
        "payment_reference": line.reference,
        "batch": line.batch,
        "method": line.method,
        "count": line.count,
        "settled_on": line.settled_on.isoformat(),
        "currency": line.amount.currency,
        "credit": max(amount, Decimal(0)),
        "debit": max(-amount, Decimal(0)),
    }
    template = summary.templates.fee if line.is_fee else summary.templates.line
    return Posting(
        reference=line.reference,
        gateway_txn_id=line.gateway_txn_id,
        operation=line.operation,
        company=summary.company,
        business_day=line.settled_on.isoformat(),
        amount=line.amount,
        payload=template.map(source_document(context=context)),
    )
