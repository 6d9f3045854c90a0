"""The ``RiskStore`` and ``TrainingEvents`` ports (``flows.ports.risk``) on the
``risk_assessments`` table: one row per screened event, with the subject's fields the history
windows query, and the posting holds of the review queue (``stores.risk_reviews``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.database import Database
from payledger.adapters.db.statements import insert_ignoring_duplicates
from payledger.adapters.db.tables import risk_assessments as ra
from payledger.domain.money import Money
from payledger.domain.risk import (
    Action,
    Assessment,
    CustomerProfile,
    Reason,
    RiskHistory,
    RiskSubject,
    SubjectKind,
)
from payledger.flows.ports.risk import Burst, HeldKind, ReviewState
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.risk_reviews import Release, SqlReviewQueue

WINDOW_LIMIT = 1000
"""The most events one history window holds (newest first): enough for every rule."""


class SqlRiskStore:
    def __init__(self, database: Database, reviews: SqlReviewQueue) -> None:
        self.database = database
        self.reviews = reviews

    async def assessment(self, transaction_id: str, kind: SubjectKind) -> Assessment | None:
        async with self.database.transaction() as conn:
            row = (
                await conn.execute(
                    select(ra).where(ra.c.transaction_id == transaction_id, ra.c.kind == kind)
                )
            ).one_or_none()
        return assessment_of(row) if row is not None else None

    async def card_of(self, transaction_id: str) -> str:
        async with self.database.transaction() as conn:
            found = await conn.scalar(
                select(ra.c.card_token)
                .where(ra.c.transaction_id == transaction_id, ra.c.card_token != "")
                .limit(1)
            )
        return str(found or "")

    async def screened(self, transaction_id: str) -> RiskSubject | None:
        query = select(ra).where(ra.c.transaction_id == transaction_id).order_by(ra.c.id).limit(1)
        async with self.database.transaction() as conn:
            row = (await conn.execute(query)).one_or_none()
        return subject_of_row(row) if row is not None else None

    async def history(self, subject: RiskSubject, since: datetime) -> RiskHistory:
        async with self.database.transaction() as conn:
            windows = {
                name: await _window(conn, subject, since, column, value)
                for name, column, value in (
                    ("by_customer", ra.c.customer_id, subject.customer_id),
                    ("by_card", ra.c.card_token, subject.card_token),
                    ("by_zip", ra.c.billing_zip, subject.billing_zip),
                    ("by_ip", ra.c.ip_address, subject.ip_address),
                    ("declines", ra.c.kind, SubjectKind.DECLINE.value),
                )
            }
            same_invoice = await _same_invoice(conn, subject)
            first_seen = await _first_seen(conn, subject.customer_id, subject.occurred_at)
        profile = _profile(windows["by_customer"], first_seen)
        return RiskHistory(**windows, same_invoice=same_invoice, customer=profile)

    async def record(self, subject: RiskSubject, assessment: Assessment, at: datetime) -> bool:
        async with self.database.transaction() as conn:
            inserted = await conn.execute(
                insert_ignoring_duplicates(ra, self.database.dialect)
                .values(**subject_row(subject), **assessment_row(assessment), assessed_at=at)
                .returning(ra.c.id)
            )
            return inserted.scalar_one_or_none() is not None

    async def burst(self, since: datetime, small: Money) -> Burst:
        kinds = (SubjectKind.DECLINE.value, SubjectKind.AUTHORIZATION.value)
        async with self.database.transaction() as conn:
            rows = (
                await conn.execute(
                    select(ra.c.kind, ra.c.amount, ra.c.currency).where(
                        ra.c.occurred_at >= since, ra.c.kind.in_(kinds)
                    )
                )
            ).all()
        declined = [Money(Decimal(r.amount), r.currency) for r in rows if r.kind == kinds[0]]
        small_ones = sum(
            1
            for r in rows
            if r.kind == kinds[1]
            and r.currency == small.currency
            and Decimal(r.amount) <= small.amount
        )
        total = sum(
            (m for m in declined if m.currency == small.currency), Money.zero(small.currency)
        )
        return Burst(len(declined), small_ones, total if declined else None)

    async def hold_posting(
        self, subject: RiskSubject, inbox_id: int, assessment: Assessment, *, open_review: bool
    ) -> ReviewState | None:
        release = Release(
            PROCESS_PAYMENT,
            {"inbox_id": inbox_id},
            f"risk-release:posting:{subject.transaction_id}:{inbox_id}",
            inbox_id=inbox_id,
        )
        return await self.reviews.hold(
            HeldKind.POSTING,
            subject.transaction_id,
            subject,
            assessment,
            release,
            open_review=open_review,
        )

    async def training_events(self, limit: int) -> list[RiskSubject]:
        async with self.database.transaction() as conn:
            rows = await conn.execute(
                select(ra).order_by(ra.c.occurred_at.desc(), ra.c.id.desc()).limit(limit)
            )
            return [subject_of_row(row) for row in reversed(rows.all())]

    async def counts_by_action(self) -> dict[str, int]:
        """How many screened events each action decided (for ``risk status``)."""
        async with self.database.transaction() as conn:
            rows = await conn.execute(select(ra.c.action, func.count()).group_by(ra.c.action))
            return {str(action): int(count) for action, count in rows}


async def _window(
    conn: AsyncConnection, subject: RiskSubject, since: datetime, column: Any, value: str
) -> list[RiskSubject]:
    if not value:
        return []
    rows = await conn.execute(
        select(ra)
        .where(
            column == value,
            ra.c.occurred_at >= since,
            ra.c.occurred_at <= subject.occurred_at,
            ra.c.transaction_id != subject.transaction_id,
        )
        .order_by(ra.c.occurred_at.desc(), ra.c.id.desc())
        .limit(WINDOW_LIMIT)
    )
    return [subject_of_row(row) for row in rows]


async def _same_invoice(conn: AsyncConnection, subject: RiskSubject) -> list[RiskSubject]:
    if not subject.invoice_ref:
        return []
    charges = (SubjectKind.SALE.value, SubjectKind.AUTHORIZATION.value)
    rows = await conn.execute(
        select(ra)
        .where(
            ra.c.invoice_ref == subject.invoice_ref,
            ra.c.kind.in_(charges),
            ra.c.transaction_id != subject.transaction_id,
            ra.c.occurred_at <= subject.occurred_at,
        )
        .order_by(ra.c.occurred_at.desc())
        .limit(WINDOW_LIMIT)
    )
    return [subject_of_row(row) for row in rows]


async def _first_seen(conn: AsyncConnection, customer_id: str, before: datetime) -> datetime | None:
    if not customer_id:
        return None
    first: datetime | None = await conn.scalar(
        select(func.min(ra.c.occurred_at)).where(
            ra.c.customer_id == customer_id, ra.c.occurred_at < before
        )
    )
    return first


def _profile(events: Sequence[RiskSubject], first_seen: datetime | None) -> CustomerProfile:
    paid = [e.amount for e in events if e.kind in (SubjectKind.SALE, SubjectKind.AUTHORIZATION)]
    refunds = sum(1 for e in events if e.kind is SubjectKind.REFUND)
    currency = paid[0].currency if paid else ""
    same = [amount for amount in paid if amount.currency == currency]
    if not same:
        return CustomerProfile(first_seen=first_seen, refunds=refunds)
    total = sum(same, Money.zero(currency))
    return CustomerProfile(
        payments=len(same),
        total=total,
        largest=max(same, key=lambda m: m.amount),
        mean=Money(total.amount / len(same), currency),
        first_seen=first_seen,
        refunds=refunds,
    )


def subject_row(subject: RiskSubject) -> dict[str, Any]:
    return {
        "transaction_id": subject.transaction_id,
        "kind": subject.kind.value,
        "customer_id": subject.customer_id[:80],
        "card_token": subject.card_token[:120],
        "billing_zip": subject.billing_zip[:16],
        "ip_address": subject.ip_address[:45],
        "avs_result": subject.avs_result[:80],
        "csc_result": subject.csc_result[:40],
        "amount": str(subject.amount.amount),
        "currency": subject.amount.currency,
        "occurred_at": subject.occurred_at,
        "invoice_ref": subject.invoice_ref[:80],
        "original_transaction_id": subject.original_transaction_id,
    }


def assessment_row(assessment: Assessment) -> dict[str, Any]:
    return {
        "score": assessment.score,
        "action": assessment.action.value,
        "reasons": reasons_doc(assessment.reasons),
        "model_version": assessment.model_version[:64],
    }


def reasons_doc(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "detail": r.detail, "weight": r.weight} for r in reasons]


def reasons_of(doc: Any) -> tuple[Reason, ...]:
    return tuple(
        Reason(str(r.get("code", "")), str(r.get("detail", "")), float(r.get("weight", 0.0)))
        for r in (doc or [])
        if isinstance(r, dict)
    )


def assessment_of(row: Any) -> Assessment:
    return Assessment(
        score=float(row.score),
        action=Action(row.action),
        reasons=reasons_of(row.reasons),
        model_version=row.model_version,
    )


def subject_of_row(row: Any) -> RiskSubject:
    return RiskSubject(
        transaction_id=row.transaction_id,
        kind=SubjectKind(row.kind),
        amount=Money(Decimal(row.amount), row.currency),
        occurred_at=row.occurred_at,
        customer_id=row.customer_id,
        card_token=row.card_token,
        billing_zip=row.billing_zip,
        ip_address=row.ip_address,
        avs_result=row.avs_result,
        csc_result=row.csc_result,
        invoice_ref=row.invoice_ref,
        original_transaction_id=row.original_transaction_id,
    )
