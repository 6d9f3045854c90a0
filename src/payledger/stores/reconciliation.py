"""The ``ReconStore`` port (``flows.ports``): runs and items in ``recon_runs`` /
``recon_items``, auto-heal through the inbox, and one deposit job per settled batch.

A heal stores the payment exactly as the poller would (same source, same event key, same
``payment.process`` job and ordering key), so whichever sees it first wins and every later
copy, from another run or from the poller, is a duplicate; the postings table then allows
one line per transaction and operation whatever happens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import desc, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import inbox, jobs, postings, recon_items, recon_runs
from payledger.domain.codec import payment_to_dict
from payledger.domain.model import SettlementBatch
from payledger.domain.money import Money
from payledger.domain.reconcile.runs import (
    DepositOrder,
    DepositState,
    HealRequest,
    HealState,
    OutstandingHeal,
    RunRecord,
)
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import JobStatus, NewJob
from payledger.stores.payment_events import PROCESS_PAYMENT

POST_DEPOSIT = "reconcile.deposit"
"""The job kind that posts one settled batch's deposit journal."""
RUN_RECONCILIATION = "reconcile.run"
"""The job kind of the scheduled daily reconciliation."""
GATEWAY_SOURCE = "paytrace"

_POSTING_HEAL = {
    "planned": HealState.IN_FLIGHT,
    "sending": HealState.IN_FLIGHT,
    "unknown": HealState.IN_FLIGHT,
    "shadow": HealState.IN_FLIGHT,
    "dead": HealState.PARKED,
    "posted": HealState.NEEDS_ATTENTION,
    "cancelled": HealState.NEEDS_ATTENTION,
}
_EVENT_HEAL = {"received": HealState.IN_FLIGHT, "parked": HealState.PARKED}
_JOB_DEPOSIT = {
    JobStatus.PENDING.value: DepositState.PENDING,
    JobStatus.RUNNING.value: DepositState.PENDING,
    JobStatus.DONE.value: DepositState.POSTED,
    JobStatus.DEAD.value: DepositState.FAILED,
}


def deposit_key(company: str, batch_number: str) -> str:
    return f"deposit:{company}:{batch_number}"


def deposit_payload(order: DepositOrder) -> dict[str, Any]:
    b = order.batch
    return {
        "company": order.company,
        "number": b.number,
        "settled_at": b.settled_at.isoformat(),
        "currency": b.net.currency,
        "net": str(b.net.amount),
        "fees": str(b.fees.amount) if b.fees else "0",
        "sales": str(b.sales.amount),
        "refunds": str(b.refunds.amount),
        "transaction_count": b.transaction_count,
    }


def batch_of(payload: Mapping[str, Any]) -> SettlementBatch:
    """The batch a deposit job carries (written by :func:`deposit_payload`)."""
    currency = str(payload["currency"])

    def money(name: str) -> Money:
        return Money(Decimal(str(payload[name])), currency)

    return SettlementBatch(
        number=str(payload["number"]),
        settled_at=datetime.fromisoformat(str(payload["settled_at"])),
        net=money("net"),
        transaction_count=int(payload["transaction_count"]),
        sales=money("sales"),
        refunds=money("refunds"),
        fees=money("fees"),
    )


class SqlReconStore:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.queue = inbox.queue
        self.database = inbox.queue.database

    async def start_run(self, company: str, first: date, last: date, trigger: str) -> int:
        async with self.database.transaction() as conn:
            result = await conn.execute(
                insert(recon_runs)
                .values(
                    company=company,
                    first_day=first.isoformat(),
                    last_day=last.isoformat(),
                    trigger=trigger,
                    status="running",
                    started_at=self.queue.clock.now(),
                )
                .returning(recon_runs.c.id)
            )
            return int(result.scalar_one())

    async def finish_run(self, run_id: int, record: RunRecord) -> None:
        report = record.report
        async with self.database.transaction() as conn:
            for start in range(0, len(record.items), 500):
                chunk = [{**item, "run_id": run_id} for item in record.items[start : start + 500]]
                await conn.execute(insert(recon_items), chunk)
            await conn.execute(
                update(recon_runs)
                .where(recon_runs.c.id == run_id)
                .values(
                    status="done",
                    finished_at=self.queue.clock.now(),
                    exceptions=int(report["exceptions"]),
                    counts=report["counts"],
                    report=report,
                    report_csv=record.csv,
                    report_html=record.html,
                )
            )

    async def fail_run(self, run_id: int, error: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(recon_runs)
                .where(recon_runs.c.id == run_id)
                .values(status="failed", finished_at=self.queue.clock.now(), error=error)
            )

    async def heal(self, requests: Sequence[HealRequest]) -> dict[str, str]:
        states: dict[str, str] = {}
        async with self.database.transaction() as conn:
            for request in requests:
                payment = request.event.payment
                state = await self._posting_heal(conn, payment.gateway_txn_id, request.operation)
                if state is None:
                    receipt = await self.inbox.accept(
                        conn,
                        source=GATEWAY_SOURCE,
                        external_id=request.event.event_id,
                        payload=payment_to_dict(payment),
                        job_kind=PROCESS_PAYMENT,
                        ordering_key=f"{GATEWAY_SOURCE}:{payment.gateway_txn_id}",
                    )
                    state = (
                        await self._event_heal(conn, receipt.inbox_id)
                        if receipt.duplicate
                        else HealState.ENQUEUED
                    )
                states[payment.gateway_txn_id] = state
        return states

    async def _posting_heal(
        self, conn: AsyncConnection, txn_id: str, operation: str
    ) -> HealState | None:
        state = await conn.scalar(
            select(postings.c.state).where(
                postings.c.gateway_txn_id == txn_id, postings.c.operation == operation
            )
        )
        return _POSTING_HEAL.get(state, HealState.IN_FLIGHT) if state else None

    async def _event_heal(self, conn: AsyncConnection, inbox_id: int) -> HealState:
        status = await conn.scalar(select(inbox.c.status).where(inbox.c.id == inbox_id))
        return _EVENT_HEAL.get(str(status), HealState.NEEDS_ATTENTION)

    async def outstanding_heals(self, company: str) -> list[OutstandingHeal]:
        waiting = (HealState.ENQUEUED.value, HealState.IN_FLIGHT.value)
        query = (
            select(recon_items.c.id, recon_items.c.txn_id, recon_items.c.reference)
            .join(recon_runs, recon_runs.c.id == recon_items.c.run_id)
            .where(recon_items.c.heal_state.in_(waiting), recon_runs.c.company == company)
            .order_by(recon_items.c.id)
        )
        async with self.database.transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [OutstandingHeal(row.id, row.txn_id, row.reference) for row in rows]

    async def record_heals(self, verified: Sequence[int], states: Mapping[int, str]) -> None:
        now = self.queue.clock.now()
        async with self.database.transaction() as conn:
            if verified:
                await conn.execute(
                    update(recon_items)
                    .where(recon_items.c.id.in_(list(verified)))
                    .values(heal_state=HealState.VERIFIED.value, heal_checked_at=now)
                )
            for item_id, state in states.items():
                await conn.execute(
                    update(recon_items)
                    .where(recon_items.c.id == item_id)
                    .values(heal_state=state, heal_checked_at=now)
                )

    async def posting_states(self, txn_ids: Sequence[str]) -> dict[str, str]:
        if not txn_ids:
            return {}
        query = select(postings.c.gateway_txn_id, postings.c.state).where(
            postings.c.gateway_txn_id.in_(list(txn_ids)),
            postings.c.operation.in_(("payment", "refund")),
        )
        async with self.database.transaction() as conn:
            return {row.gateway_txn_id: row.state for row in await conn.execute(query)}

    async def enqueue_deposits(self, orders: Sequence[DepositOrder]) -> dict[str, str]:
        states: dict[str, str] = {}
        async with self.database.transaction() as conn:
            for order in orders:
                key = deposit_key(order.company, order.batch.number)
                job = NewJob(
                    POST_DEPOSIT,
                    deposit_payload(order),
                    dedupe_key=key,
                    ordering_key=f"deposit:{order.company}",
                )
                if await self.queue.enqueue(conn, job) is not None:
                    states[order.batch.number] = DepositState.ENQUEUED
                    continue
                status = await conn.scalar(select(jobs.c.status).where(jobs.c.dedupe_key == key))
                states[order.batch.number] = _JOB_DEPOSIT.get(str(status), DepositState.PENDING)
        return states


async def recent_runs(database: Database, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first (without their reports)."""
    columns = [c for c in recon_runs.c if c.name not in ("report", "report_csv", "report_html")]
    async with database.transaction() as conn:
        rows = await conn.execute(select(*columns).order_by(desc(recon_runs.c.id)).limit(limit))
        return [dict(row._mapping) for row in rows]


async def load_run(database: Database, run_id: int) -> dict[str, Any] | None:
    """One run with its report and renderings, or None."""
    async with database.transaction() as conn:
        row = (
            await conn.execute(select(recon_runs).where(recon_runs.c.id == run_id))
        ).one_or_none()
        return dict(row._mapping) if row else None
