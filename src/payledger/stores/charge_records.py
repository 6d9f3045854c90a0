"""The ``ChargeRecords`` port (``flows.ports``): payments made through payledger
(``api_payments``) and the inbox event that posts each one, written together in one
transaction with an audit entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import api_payments
from payledger.domain.charges import ChargeRecord, PaymentEvent, PaymentState, ReceivableKind
from payledger.domain.codec import payment_to_dict
from payledger.domain.errors import DomainError
from payledger.domain.model import PaymentKind
from payledger.domain.money import Money
from payledger.engine.idempotency import IdempotencyKeys, KeyState
from payledger.engine.inbox import Inbox
from payledger.stores.payment_events import PROCESS_PAYMENT


def _row_values(record: ChargeRecord, now: Any) -> dict[str, Any]:
    return {
        "gateway_txn_id": record.gateway_txn_id,
        "client": record.client,
        "kind": record.kind.value,
        "status": record.state.value,
        "amount": str(record.amount.amount),
        "currency": record.amount.currency,
        "captured_amount": str(record.captured.amount),
        "refunded_amount": str(record.refunded.amount),
        "original_txn_id": record.original_txn_id,
        "invoice_number": record.invoice_number,
        "sales_order_number": record.sales_order_number,
        "customer_account": record.customer_account,
        "response_code": record.response_code,
        "approval_code": record.approval_code,
        "masked_card": record.masked_card,
        "message": record.message,
        "created_at": record.created_at,
        "updated_at": now,
    }


def record_from_row(row: Row[Any]) -> ChargeRecord:
    currency = row.currency
    return ChargeRecord(
        gateway_txn_id=row.gateway_txn_id,
        client=row.client,
        kind=PaymentKind(row.kind),
        state=PaymentState(row.status),
        amount=Money(Decimal(row.amount), currency),
        captured=Money(Decimal(row.captured_amount), currency),
        refunded=Money(Decimal(row.refunded_amount), currency),
        created_at=row.created_at,
        original_txn_id=row.original_txn_id,
        invoice_number=row.invoice_number,
        sales_order_number=row.sales_order_number,
        customer_account=row.customer_account,
        response_code=row.response_code,
        approval_code=row.approval_code,
        masked_card=row.masked_card,
        message=row.message,
    )


HOLDER = "payledger:charge-hold"
"""The ``idempotency_keys`` client under which receivables are held for one charge."""
HOLD_LAPSES_AFTER = timedelta(minutes=5)


class SqlChargeRecords:
    """Payments made through the API or auto-pay, with their ledger events."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database
        self.clock = inbox.queue.clock
        self._holds = IdempotencyKeys(
            self.clock, dialect=self.database.dialect, ttl=HOLD_LAPSES_AFTER
        )

    async def hold(self, kind: ReceivableKind, number: str) -> bool:
        async with self.database.transaction() as conn:
            claim = await self._holds.claim(conn, HOLDER, f"{kind.value}:{number}", "hold")
        return claim.state is KeyState.STARTED

    async def release(self, kind: ReceivableKind, number: str) -> None:
        async with self.database.transaction() as conn:
            await self._holds.release(conn, HOLDER, f"{kind.value}:{number}")

    async def get(self, gateway_txn_id: str) -> ChargeRecord | None:
        async with self.database.transaction() as conn:
            return await self._get(conn, gateway_txn_id)

    async def _get(
        self, conn: AsyncConnection, gateway_txn_id: str, *, lock: bool = False
    ) -> ChargeRecord | None:
        query = select(api_payments).where(api_payments.c.gateway_txn_id == gateway_txn_id)
        if lock and not self.database.is_sqlite:  # SQLite transactions already hold the lock
            query = query.with_for_update()
        row = (await conn.execute(query)).one_or_none()
        return record_from_row(row) if row else None

    async def for_receivable(self, kind: ReceivableKind, number: str) -> list[ChargeRecord]:
        column = (
            api_payments.c.invoice_number
            if kind is ReceivableKind.INVOICE
            else api_payments.c.sales_order_number
        )
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(api_payments).where(column == number).order_by(api_payments.c.id)
            )
            return [record_from_row(row) for row in rows]

    async def save(
        self, record: ChargeRecord, *, event: PaymentEvent, actor: str, action: str
    ) -> None:
        async with self.database.transaction() as conn:
            await self._upsert(conn, record)
            await self._post(conn, event)
            await self._audit(conn, record, actor, action)

    async def save_refund(
        self, refund: ChargeRecord, *, event: PaymentEvent, actor: str
    ) -> ChargeRecord:
        async with self.database.transaction() as conn:
            original = await self._get(conn, refund.original_txn_id, lock=True)
            if original is None:
                raise DomainError(f"refund {refund.gateway_txn_id} has no original payment")
            if refund.state is PaymentState.APPROVED:
                original = _with_refund(original, refund.amount)
                await self._upsert(conn, original)
            await self._upsert(conn, refund)
            await self._post(conn, event)
            action = (
                "payment.refunded"
                if refund.state is PaymentState.APPROVED
                else "payment.refund_declined"
            )
            await self._audit(conn, refund, actor, action)
        return original

    async def _upsert(self, conn: AsyncConnection, record: ChargeRecord) -> None:
        values = _row_values(record, self.clock.now())
        inserted = await conn.execute(
            insert_ignoring_duplicates(api_payments, self.database.dialect)
            .values(**values)
            .returning(api_payments.c.id)
        )
        if inserted.scalar_one_or_none() is None:
            del values["created_at"], values["gateway_txn_id"], values["client"]
            await conn.execute(
                update(api_payments)
                .where(api_payments.c.gateway_txn_id == record.gateway_txn_id)
                .values(**values)
            )

    async def _post(self, conn: AsyncConnection, event: PaymentEvent) -> None:
        await self.inbox.accept(
            conn,
            source=event.source,
            external_id=event.event_id,
            payload=payment_to_dict(event.payment),
            job_kind=PROCESS_PAYMENT,
            ordering_key=f"{event.source}:{event.payment.gateway_txn_id}",
        )

    async def _audit(
        self, conn: AsyncConnection, record: ChargeRecord, actor: str, action: str
    ) -> None:
        await record_audit(
            conn,
            at=self.clock.now(),
            actor=actor,
            action=action,
            subject=f"payment:{record.gateway_txn_id}",
            detail={
                "kind": record.kind.value,
                "state": record.state.value,
                "amount": str(record.amount.amount),
                "currency": record.amount.currency,
                "invoice": record.invoice_number,
                "sales_order": record.sales_order_number,
                "customer": record.customer_account,
                "original": record.original_txn_id,
            },
        )


def _with_refund(original: ChargeRecord, amount: Money) -> ChargeRecord:
    refunded = original.refunded + amount
    taken = original.captured if original.kind is PaymentKind.AUTHORIZATION else original.amount
    state = PaymentState.REFUNDED if taken <= refunded else original.state
    return replace(original, refunded=refunded, state=state)
