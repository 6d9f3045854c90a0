"""What shadow mode would have written to the ledger: postings kept in the ``shadow`` state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import postings
from payledger.domain.money import Money
from payledger.domain.posting import ORDER_OPERATION_PREFIX, LedgerOperation, PostingState
from payledger.mapping.jsonio import loads

_DEBITS = (LedgerOperation.REFUND.value, LedgerOperation.REVERSAL.value)


@dataclass(frozen=True)
class ShadowWrite:
    """One write the ledger would have received: a journal line, a removal or an order update."""

    business_day: str
    operation: str
    reference: str
    gateway_txn_id: str
    customer_account: str
    amount: Money
    journal_batch_number: str
    line_number: int | None
    target_reference: str
    payload: dict[str, Any]
    recorded_at: datetime | None

    @property
    def kind(self) -> str:
        """``line``, ``removal`` or ``order update``."""
        if self.operation.startswith(ORDER_OPERATION_PREFIX):
            return "order update"
        return "removal" if self.operation == LedgerOperation.REMOVAL.value else "line"

    @property
    def debit(self) -> Decimal | None:
        """What the line debits the customer (refunds and reversals)."""
        return self.amount.amount if self.operation in _DEBITS else None

    @property
    def credit(self) -> Decimal | None:
        """What the line credits the customer (payments received)."""
        return self.amount.amount if self.operation == LedgerOperation.PAYMENT.value else None


@dataclass
class ShadowTotals:
    """Per currency: lines, their debits and credits, removals and order updates."""

    lines: int = 0
    debits: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)
    removals: int = 0
    order_updates: int = 0
    removed: Decimal = field(default=Decimal(0))
    """Net credit of the removed lines (a removal cancels a line also counted above)."""

    @property
    def net_credit(self) -> Decimal:
        """What the customers are credited in all, once removals are applied."""
        return self.credits - self.debits - self.removed


async def shadow_writes(
    database: Database, *, first_day: date | None = None, last_day: date | None = None
) -> list[ShadowWrite]:
    """Shadow postings of the business days ``first_day``..``last_day`` (all when None), in
    journal order."""
    query = select(postings).where(postings.c.state == PostingState.SHADOW.value)
    if first_day is not None:
        query = query.where(postings.c.business_day >= first_day.isoformat())
    if last_day is not None:
        query = query.where(postings.c.business_day <= last_day.isoformat())
    query = query.order_by(
        postings.c.business_day,
        postings.c.journal_batch_number,
        postings.c.line_number,
        postings.c.id,
    )
    async with database.transaction() as conn:
        rows = (await conn.execute(query)).all()
    return [
        ShadowWrite(
            business_day=row.business_day,
            operation=row.operation,
            reference=row.reference,
            gateway_txn_id=row.gateway_txn_id,
            customer_account=row.customer_account,
            amount=Money(Decimal(row.amount), row.currency),
            journal_batch_number=row.journal_batch_number or "",
            line_number=row.line_number,
            target_reference=row.target_reference,
            payload=loads(row.payload),
            recorded_at=row.posted_at,
        )
        for row in rows
    ]


def shadow_totals(writes: Sequence[ShadowWrite]) -> dict[str, ShadowTotals]:
    """Totals per currency, for the report's summary."""
    totals: dict[str, ShadowTotals] = {}
    net_by_reference = {
        w.reference: (w.credit or Decimal(0)) - (w.debit or Decimal(0)) for w in writes
    }
    for write in writes:
        total = totals.setdefault(write.amount.currency, ShadowTotals())
        if write.kind == "order update":
            total.order_updates += 1
        elif write.kind == "removal":
            total.removals += 1
            total.removed += net_by_reference.get(write.target_reference, Decimal(0))
        else:
            total.lines += 1
            total.debits += write.debit or Decimal(0)
            total.credits += write.credit or Decimal(0)
    return totals
