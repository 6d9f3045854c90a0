"""The ``PaymentEventStore`` port (``flows.ports``) on the inbox and the ``watermarks`` table,
and the ``HintedPayments`` port: payments fetched for webhook hints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import watermarks
from payledger.domain.card_data import redact_card_numbers
from payledger.domain.codec import payment_to_dict
from payledger.domain.events import PaymentObserved, Recorded
from payledger.engine.inbox import Inbox, NewEvent

PROCESS_PAYMENT = "payment.process"
"""The job kind that processes one observed payment."""


def payment_event(source: str, event: PaymentObserved) -> NewEvent:
    """The inbox event of an observed payment. Every source (poller, webhooks, backfill) keys
    and orders payments this way, so one payment state seen through several of them is one
    inbox event."""
    return NewEvent(
        event.event_id,
        payment_to_dict(event.payment),
        ordering_key=f"{source}:{event.payment.gateway_txn_id}",
    )


class SqlPaymentEventStore:
    """Observed payments go to the inbox, each with a ``payment.process`` job ordered by
    gateway transaction, so that the states of one transaction (approved, captured, voided,
    settled) are handled in arrival order. A refund is its own transaction: it waits for its
    sale in the posting flow, not in the queue, so a refund that arrives first cannot block
    the sale it waits for."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database

    async def watermark(self, name: str) -> datetime | None:
        async with self.database.transaction() as conn:
            value: datetime | None = await conn.scalar(
                select(watermarks.c.value).where(watermarks.c.name == name)
            )
            return value

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        async with self.database.transaction() as conn:
            receipts = await self.inbox.accept_many(
                conn,
                source=source,
                job_kind=PROCESS_PAYMENT,
                events=[payment_event(source, event) for event in events],
            )
            duplicates = sum(receipt.duplicate for receipt in receipts)
            new = len(receipts) - duplicates
            name, value = watermark
            now = self.inbox.queue.clock.now()
            inserted = await conn.execute(
                insert_ignoring_duplicates(watermarks, self.database.dialect)
                .values(name=name, value=value, updated_at=now)
                .returning(watermarks.c.name)
            )
            if inserted.scalar_one_or_none() is None:
                await conn.execute(
                    update(watermarks)
                    .where(watermarks.c.name == name, watermarks.c.value < value)
                    .values(value=value, updated_at=now)
                )
        return Recorded(new=new, duplicates=duplicates)


class SqlHintedPayments:
    """The ``HintedPayments`` port: a payment fetched for a hint goes to the inbox like a
    polled one (same key and ``payment.process`` job), and the hint is marked processed in the
    same transaction, so a fetch that runs again finds the payment already there."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database

    async def fetched(self, hint_id: int, source: str, event: PaymentObserved) -> bool:
        async with self.database.transaction() as conn:
            (receipt,) = await self.inbox.accept_many(
                conn, source=source, job_kind=PROCESS_PAYMENT, events=[payment_event(source, event)]
            )
            await self.inbox.mark(conn, hint_id, "processed")
        return not receipt.duplicate

    async def park(self, hint_id: int, error: str) -> None:
        async with self.database.transaction() as conn:
            await self.inbox.mark(conn, hint_id, "parked", redact_card_numbers(error)[:2000])
