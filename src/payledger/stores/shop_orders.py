"""The ``ShopOrderStore`` port (``flows.ports``): shop orders as inbox records (source
``shop-order``, external id = the shop's order id).

The row is claimed before the card is charged, so two requests for one order never charge
twice; an approval is stored with the job that completes the order in the ERP and with the
payment's own inbox event, in one transaction. The order job and the payment event share the
payment's ordering key, order job first: the payment is posted only after its customer and
order exist in the ERP, and the poller, seeing the same transaction later, finds it stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import inbox, jobs
from payledger.domain.card_data import find_card_data
from payledger.domain.codec import payment_to_dict
from payledger.domain.errors import CardDataRejected
from payledger.domain.events import PaymentObserved
from payledger.domain.shop_orders import (
    ErpReferences,
    ShopOrder,
    ShopOrderRecord,
    ShopOrderStatus,
    record_from_dict,
    record_to_dict,
)
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import JobStatus, NewJob
from payledger.stores.payment_events import PROCESS_PAYMENT

SHOP_ORDER_SOURCE = "shop-order"
COMPLETE_ORDER = "order.complete"
"""The job kind that creates a paid shop order in the ERP."""

INBOX_STATUS = {
    ShopOrderStatus.CHARGING: "charging",
    ShopOrderStatus.DECLINED: "declined",
    ShopOrderStatus.PENDING: "received",
    ShopOrderStatus.COMPLETED: "processed",
    ShopOrderStatus.FAILED: "parked",
}


def _row_is(reference: str) -> Any:
    return and_(inbox.c.source == SHOP_ORDER_SOURCE, inbox.c.external_id == reference)


class SqlShopOrderStore:
    """Implements the order-to-cash flow's ``ShopOrderStore`` port."""

    def __init__(self, inbox_: Inbox) -> None:
        self.inbox = inbox_
        self.queue = inbox_.queue
        self.database = inbox_.queue.database

    def _document(self, record: ShopOrderRecord) -> dict[str, Any]:
        document = record_to_dict(record)
        found = find_card_data(document)
        if found:
            raise CardDataRejected(found)
        return document

    async def _write(
        self,
        conn: AsyncConnection,
        record: ShopOrderRecord,
        *,
        only: ShopOrderStatus,
        or_: tuple[ShopOrderStatus, ...] = (),
    ) -> int:
        """Replace the record, if it is still in state ``only`` (or one of ``or_``)."""
        states = [INBOX_STATUS[state] for state in (only, *or_)]
        result = await conn.execute(
            update(inbox)
            .where(_row_is(record.reference), inbox.c.status.in_(states))
            .values(
                payload=self._document(record),
                status=INBOX_STATUS[record.status],
                processed_at=self.queue.clock.now()
                if record.status is ShopOrderStatus.COMPLETED
                else None,
                last_error=record.error or None,
            )
        )
        return result.rowcount

    async def claim(self, order: ShopOrder, *, client: str) -> ShopOrderRecord | None:
        """Claim ``order`` for charging on behalf of API ``client``: None when the caller may
        charge now, else the record of the order as it stands (being charged, pending,
        completed, failed, or another client's order under the same id)."""
        record = ShopOrderRecord(ShopOrderStatus.CHARGING, order, client=client)
        async with self.database.transaction() as conn:
            inserted = await conn.execute(
                insert_ignoring_duplicates(inbox, self.database.dialect)
                .values(
                    source=SHOP_ORDER_SOURCE,
                    external_id=order.reference,
                    payload=self._document(record),
                    status=INBOX_STATUS[ShopOrderStatus.CHARGING],
                    received_at=self.queue.clock.now(),
                )
                .returning(inbox.c.id)
            )
            if inserted.scalar_one_or_none() is not None:
                return None
            known = await self._get(conn, order.reference)
            # A declined order may be tried again, with another card, by its own client.
            again = known is not None and known.belongs_to(client)
            if again and await self._write(conn, record, only=ShopOrderStatus.DECLINED):
                return None
            return await self._get(conn, order.reference)

    async def release(self, reference: str) -> None:
        """Forget a claim whose charge surely did not happen."""
        async with self.database.transaction() as conn:
            await conn.execute(
                inbox.delete().where(
                    _row_is(reference), inbox.c.status == INBOX_STATUS[ShopOrderStatus.CHARGING]
                )
            )

    async def take_over(self, reference: str, *, stale_before: datetime) -> datetime | None:
        async with self.database.transaction() as conn:
            charging = _row_is(reference) & (
                inbox.c.status == INBOX_STATUS[ShopOrderStatus.CHARGING]
            )
            claimed: datetime | None = await conn.scalar(
                select(inbox.c.received_at).where(charging)
            )
            if claimed is None or claimed >= stale_before:
                return None
            taken = await conn.execute(
                update(inbox)
                .where(charging, inbox.c.received_at == claimed)
                .values(received_at=self.queue.clock.now())
            )
            return claimed if taken.rowcount == 1 else None

    async def declined(self, record: ShopOrderRecord) -> None:
        async with self.database.transaction() as conn:
            await self._write(conn, record, only=ShopOrderStatus.CHARGING)

    async def accepted(
        self,
        record: ShopOrderRecord,
        event: PaymentObserved | None,
        *,
        source: str,
        run_at: datetime,
    ) -> ShopOrderRecord:
        """Store the charged order, the job that completes it (due at ``run_at``) and, when
        ``event`` is given, the payment's inbox event ordered after that job; one transaction."""
        assert record.payment is not None
        ordering_key = f"{source}:{record.payment.gateway_txn_id}"
        async with self.database.transaction() as conn:
            job_id = await self.queue.enqueue(
                conn,
                NewJob(
                    kind=COMPLETE_ORDER,
                    payload={"reference": record.reference},
                    dedupe_key=f"{SHOP_ORDER_SOURCE}:{record.reference}:{ordering_key}",
                    ordering_key=ordering_key,
                    run_at=run_at,
                ),
            )
            event_id = None
            if event is not None:
                receipt = await self.inbox.accept(
                    conn,
                    source=source,
                    external_id=event.event_id,
                    payload=payment_to_dict(event.payment),
                    job_kind=PROCESS_PAYMENT,
                    ordering_key=ordering_key,
                )
                event_id = receipt.inbox_id
            stored = replace(
                record, status=ShopOrderStatus.PENDING, payment_event=event_id, job=job_id
            )
            await self._write(conn, stored, only=ShopOrderStatus.CHARGING)
        return stored

    async def get(self, reference: str) -> ShopOrderRecord | None:
        async with self.database.transaction() as conn:
            return await self._get(conn, reference)

    async def _get(self, conn: AsyncConnection, reference: str) -> ShopOrderRecord | None:
        payload = await conn.scalar(select(inbox.c.payload).where(_row_is(reference)))
        return record_from_dict(payload) if payload is not None else None

    async def completed(
        self,
        record: ShopOrderRecord,
        erp: ErpReferences,
        *,
        event_fields: Mapping[str, str],
        inline: bool,
    ) -> ShopOrderRecord:
        """Record where the order landed; give the payment's event the ERP references it
        posts with (``event_fields`` into its custom fields, while still unprocessed); when
        the request completed the order itself (``inline``), its queued job has nothing to do."""
        done = replace(record, status=ShopOrderStatus.COMPLETED, erp=erp, error="")
        async with self.database.transaction() as conn:
            if record.payment_event is not None and event_fields:
                await self._add_custom_fields(conn, record.payment_event, event_fields)
            await self._write(
                conn, done, only=ShopOrderStatus.PENDING, or_=(ShopOrderStatus.FAILED,)
            )
            if inline and record.job is not None:
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id == record.job, jobs.c.status == JobStatus.PENDING.value)
                    .values(status=JobStatus.DONE.value, finished_at=self.queue.clock.now())
                )
        return done

    async def _add_custom_fields(
        self, conn: AsyncConnection, inbox_id: int, fields: Mapping[str, str]
    ) -> None:
        payload = await conn.scalar(
            select(inbox.c.payload).where(inbox.c.id == inbox_id, inbox.c.status == "received")
        )
        if payload is None:
            return
        custom = {**payload.get("custom_fields", {}), **fields}
        await conn.execute(
            update(inbox)
            .where(inbox.c.id == inbox_id, inbox.c.status == "received")
            .values(payload={**payload, "custom_fields": custom})
        )

    async def failed(self, record: ShopOrderRecord, error: str) -> None:
        """Park the paid order with ``error`` (a failed one gets the newer reason)."""
        failed = replace(record, status=ShopOrderStatus.FAILED, error=error)
        async with self.database.transaction() as conn:
            await self._write(
                conn, failed, only=ShopOrderStatus.PENDING, or_=(ShopOrderStatus.FAILED,)
            )
