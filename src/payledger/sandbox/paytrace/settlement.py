"""Closing the one open batch: what was pending settlement becomes settled, with totals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from payledger.sandbox.paytrace.records import Batch, CheckStatus, Transaction, TxnStatus, TxnType
from payledger.sandbox.paytrace.state import SandboxState


def open_batch(state: SandboxState) -> list[Transaction]:
    """Card transactions the next settlement will close (captured sales and refunds)."""
    pending = (t for t in state.transactions.values() if t.status is TxnStatus.PENDING)
    return sorted(pending, key=lambda t: t.transaction_id)


def settle(state: SandboxState, at: datetime) -> Batch | None:
    """Close the open batch at ``at``; ``None`` when nothing was pending."""
    for check in state.checks.values():
        if check.status is CheckStatus.PENDING:
            check.status = CheckStatus.SETTLED
            check.settled_at = at
            state.record("check.updated", check.check_transaction_id, at)
    members = open_batch(state)
    if not members:
        return None
    batch = summarise(state.next_batch_number(), at, members)
    for txn in members:
        txn.status = TxnStatus.SETTLED
        txn.settled_at = at
        txn.batch_number = batch.batch_number
        state.record("transaction.settled", txn.transaction_id, at)
    state.batches[batch.batch_number] = batch
    return batch


def summarise(number: int, at: datetime, members: list[Transaction]) -> Batch:
    sales = [t for t in members if t.type is not TxnType.REFUND]
    refunds = [t for t in members if t.type is TxnType.REFUND]
    return Batch(
        batch_number=number,
        closed_at=at,
        transaction_ids=[t.transaction_id for t in members],
        sales_count=len(sales),
        sales_amount=_total(sales),
        refund_count=len(refunds),
        refund_amount=_total(refunds),
        by_brand=_by_brand(sales, refunds),
    )


def _total(txns: list[Transaction]) -> Decimal:
    return sum((t.amount for t in txns), Decimal("0.00"))


def _by_brand(sales: list[Transaction], refunds: list[Transaction]) -> dict[str, dict[str, Any]]:
    brands = sorted({t.card.brand for t in sales + refunds})
    return {
        brand: {
            "sales_count": sum(1 for t in sales if t.card.brand == brand),
            "sales_amount": _total([t for t in sales if t.card.brand == brand]),
            "refund_count": sum(1 for t in refunds if t.card.brand == brand),
            "refund_amount": _total([t for t in refunds if t.card.brand == brand]),
        }
        for brand in brands
    }
