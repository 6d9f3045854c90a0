"""Signed webhook deliveries already received, on the ``idempotency_keys`` table.

A delivery id is kept, with a fingerprint of its body, for the replay window under the client
scope ``webhook:<source>``; it is written in the same transaction as the inbox event it
delivered, so a delivery is either wholly stored (id and event) or not at all.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from payledger.adapters.db.tables import idempotency_keys
from payledger.domain.events import DeliveryRecorded, PaymentObserved
from payledger.engine.idempotency import IdempotencyKeys, KeyState
from payledger.engine.inbox import Inbox
from payledger.engine.payment_events import accept_payment


class SqlDeliveryLog:
    """The ``DeliveryLog`` port for one webhook endpoint (``scope``, e.g. ``paytrace``)."""

    def __init__(self, inbox: Inbox, *, scope: str, keep: timedelta) -> None:
        self.inbox = inbox
        self.database = inbox.queue.database
        self.clock = inbox.queue.clock
        self.client = f"webhook:{scope}"
        self.keys = IdempotencyKeys(self.clock, dialect=self.database.dialect, ttl=keep)

    async def fingerprint_of(self, delivery_id: str) -> str | None:
        async with self.database.transaction() as conn:
            fingerprint: str | None = await conn.scalar(
                select(idempotency_keys.c.fingerprint).where(
                    idempotency_keys.c.client == self.client,
                    idempotency_keys.c.key == delivery_id,
                    idempotency_keys.c.expires_at > self.clock.now(),
                )
            )
            return fingerprint

    async def record(
        self, source: str, delivery_id: str, fingerprint: str, event: PaymentObserved
    ) -> DeliveryRecorded:
        async with self.database.transaction() as conn:
            claim = await self.keys.claim(conn, self.client, delivery_id, fingerprint)
            if claim.state is not KeyState.STARTED:
                earlier = "(another body)" if claim.state is KeyState.MISMATCH else fingerprint
                return DeliveryRecorded(new=False, earlier_fingerprint=earlier)
            receipt = await accept_payment(self.inbox, conn, source, event)
            await self.keys.finish(
                conn,
                self.client,
                delivery_id,
                200,
                {"event_id": event.event_id, "inbox_id": receipt.inbox_id},
            )
        return DeliveryRecorded(new=not receipt.duplicate)
