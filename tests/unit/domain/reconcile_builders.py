"""Small builders for reconciliation records: days count from 2026-03-01."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import (
    FeeRule,
    FeeSchedule,
    GatewayTxn,
    LedgerEntry,
    MatchRules,
    Period,
    TxnState,
)

DAY = date(2026, 3, 1).toordinal()
PERIOD = Period(DAY, DAY)
FEES = FeeSchedule({"VISA": FeeRule(Decimal("2.9"), Decimal("0.30"))})
RULES = MatchRules(date_window_days=3, settlement_days=1, lag_days=3, fees=FEES)


def txn(
    txn_id: str,
    amount: int = 10_000,
    *,
    refund: bool = False,
    state: TxnState = TxnState.SETTLED,
    settled: int = DAY,
    created: int | None = None,
    in_period: bool | None = None,
    customer: str = "US-001",
    card: str = "VISA",
    currency: str = "USD",
    batch: str = "413",
) -> GatewayTxn:
    settled_day = settled if state is TxnState.SETTLED else 0
    return GatewayTxn(
        txn_id=txn_id,
        operation=LedgerOperation.REFUND if refund else LedgerOperation.PAYMENT,
        state=state,
        amount=amount,
        currency=currency,
        batch=batch if state is TxnState.SETTLED else "",
        settled_day=settled_day,
        created_day=created if created is not None else (settled_day or DAY),
        card_type=card,
        customer=customer,
        in_period=(state is TxnState.SETTLED and PERIOD.first_day <= settled <= PERIOD.last_day)
        if in_period is None
        else in_period,
    )


def line(
    reference: str,
    amount: int = 10_000,
    *,
    day: int = DAY,
    currency: str = "USD",
    customer: str = "US-001",
    line_id: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        line_id=line_id or f"00042/{abs(hash((reference, amount, day))) % 100_000}",
        reference=reference,
        amount=amount,
        currency=currency,
        day=day,
        customer=customer,
        posted=False,
    )


def posted_for(t: GatewayTxn, **changes: object) -> LedgerEntry:
    """The line payledger posts for ``t``, with ``changes``."""
    code = "REF" if t.operation is LedgerOperation.REFUND else "PAY"
    signed = -t.amount if t.operation is LedgerOperation.REFUND else t.amount
    entry = line(f"PT-{t.txn_id}-{code}", signed, day=t.created_day, customer=t.customer)
    return entry._replace(**changes) if changes else entry  # type: ignore[arg-type]
