"""A small ledger written row by row, as the posting flow, the journal flush, the journal
posting and reconciliation leave it (in per-payment and in daily-summary mode): what the cash
picture is read from."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.tables import inbox, journals, postings, recon_runs, summary_members
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.codec import payment_to_dict
from payledger.domain.posting import SUMMARY_OPERATION_PREFIX, LedgerOperation, payment_reference
from payledger.domain.summary import summary_reference
from payledger.flows.post_payment import business_day

COMPANY = "usmf"
ZONE = "America/Los_Angeles"
_MONEY_OUT = (PaymentKind.REFUND, PaymentKind.ACH_REFUND)


async def paid(
    conn: AsyncConnection,
    txn: str,
    amount: str,
    *,
    at: datetime,
    kind: PaymentKind = PaymentKind.SALE,
    currency: str = "USD",
    journal: str = "",
    state: str = "posted",
) -> str:
    """A payment event in the inbox and its line in the postings; its business day."""
    payment = Payment(txn, kind, PaymentStatus.APPROVED, Money.of(amount, currency), at)
    inbox_id = await _event(conn, payment)
    operation = LedgerOperation.REFUND if kind in _MONEY_OUT else LedgerOperation.PAYMENT
    day = business_day(payment, ZONE)
    await _posting(conn, txn, operation, payment.amount, day, state, journal, inbox_id, at)
    return day


async def voided(
    conn: AsyncConnection,
    txn: str,
    amount: str,
    *,
    day: str,
    operation: LedgerOperation,
    journal: str = "",
    kind: PaymentKind = PaymentKind.SALE,
) -> None:
    """The void event of ``txn`` and the removal or reversal it left (in the sale's day)."""
    at = datetime(2026, 3, 24, 15, 0, tzinfo=UTC)
    payment = Payment(txn, kind, PaymentStatus.VOIDED, Money.of(amount), at)
    inbox_id = await _event(conn, payment)
    await _posting(conn, txn, operation, payment.amount, day, "posted", journal, inbox_id, at)


async def _event(conn: AsyncConnection, payment: Payment) -> int:
    result = await conn.execute(
        insert(inbox)
        .values(
            source="paytrace",
            external_id=f"paytrace:{payment.gateway_txn_id}:{payment.kind}:{payment.status}",
            payload=payment_to_dict(payment),
            status="processed",
            received_at=payment.occurred_at,
        )
        .returning(inbox.c.id)
    )
    return int(result.scalar_one())


async def _posting(
    conn: AsyncConnection,
    txn: str,
    operation: LedgerOperation,
    amount: Money,
    day: str,
    state: str,
    journal: str,
    inbox_id: int,
    at: datetime,
) -> None:
    await conn.execute(
        insert(postings).values(
            gateway_txn_id=txn,
            operation=operation.value,
            reference=payment_reference(txn, operation),
            state=state,
            company=COMPANY,
            business_day=day,
            currency=amount.currency,
            amount=str(amount.amount),
            payload="{}",
            journal_batch_number=journal or None,
            inbox_id=inbox_id,
            created_at=at,
            updated_at=at,
        )
    )


async def kept(
    conn: AsyncConnection,
    txn: str,
    amount: str,
    *,
    day: str,
    method: str = "VISA",
    currency: str = "USD",
    batch: str = "",
    line: str = "",
    voided: bool = False,
) -> None:
    """A payment's summary detail row (amount signed: a refund is negative), as its event
    left it (no batch yet) or its settled batch (``batch``, ``line``)."""
    await conn.execute(
        insert(summary_members).values(
            company=COMPANY,
            batch_number=batch,
            txn_id=txn,
            method=method,
            kind="refund" if amount.startswith("-") else "payment",
            amount=amount,
            currency=currency,
            line_reference=line,
            business_day=day,
            voided=voided,
            created_at=datetime(2026, 3, 20, tzinfo=UTC),
        )
    )


async def summary_line(
    conn: AsyncConnection,
    batch: str,
    method: str,
    amount: str,
    *,
    day: str,
    journal: str = "",
    state: str = "posted",
) -> None:
    """A batch's summary line for ``method`` (signed: a debit is negative) in the postings."""
    at = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)
    await conn.execute(
        insert(postings).values(
            gateway_txn_id=f"batch:{batch}",
            operation=f"{SUMMARY_OPERATION_PREFIX}{method}",
            reference=summary_reference(batch, method),
            state=state,
            company=COMPANY,
            business_day=day,
            currency="USD",
            amount=amount,
            payload="{}",
            journal_batch_number=journal or None,
            inbox_id=None,
            created_at=at,
            updated_at=at,
        )
    )


async def journal(
    conn: AsyncConnection,
    batch_number: str,
    day: str,
    *,
    opened_at: datetime,
    posted: bool = False,
    currency: str = "USD",
) -> None:
    """A day journal opened in D365 (generation by batch number, so several per day fit)."""
    await conn.execute(
        insert(journals).values(
            company=COMPANY,
            business_day=day,
            currency=currency,
            journal_name="CustPay",
            generation=int(batch_number.rsplit("-", 1)[-1]),
            batch_number=batch_number,
            next_line=1,
            created_at=opened_at,
            post_state="posted" if posted else "unposted",
            posted_at=opened_at if posted else None,
        )
    )


async def post(conn: AsyncConnection, batch_number: str, at: datetime) -> None:
    """The journal as the posting leaves it once D365 posted it."""
    await conn.execute(
        update(journals)
        .where(journals.c.batch_number == batch_number)
        .values(post_state="posted", posted_at=at, closed_at=at)
    )


async def reconciled(
    conn: AsyncConnection,
    first_day: str,
    last_day: str,
    batches: list[tuple[str, str, dict[str, str]]],
    *,
    status: str = "done",
) -> None:
    """A reconciliation run whose report lists ``(batch, settled day, {currency: net})``."""
    by_batch = [
        {"batch": number, "settled": settled, "count": 1, "exceptions": 0, "paytrace": sums}
        for number, settled, sums in batches
    ]
    report = {"totals": {"by_batch": by_batch}}
    await conn.execute(
        insert(recon_runs).values(
            company=COMPANY,
            first_day=first_day,
            last_day=last_day,
            trigger="test",
            status=status,
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            report=json.loads(json.dumps(report)),
        )
    )


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")
