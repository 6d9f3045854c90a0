"""What happened to one payment: its inbox events, jobs, postings, risk scores, reviews and
audit entries.

The web console shows these; every query is read-only. Payments are found through their
inbox events, whose stable ids carry the gateway transaction id (``source:txn:...``); the
exact id in the stored payment document decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.database import Database
from payledger.adapters.db.tables import (
    audit_log,
    inbox,
    jobs,
    postings,
    risk_assessments,
    risk_reviews,
)

PAYMENT_SCAN_LIMIT = 2000
"""Recent events read to build the payments list (a list, not a report)."""


@dataclass(frozen=True)
class PaymentEvent:
    """One stored event of a payment, with the fields an operator reads (never card data:
    the inbox holds none, and the token is shown masked only)."""

    inbox_id: int
    source: str
    external_id: str
    status: str
    received_at: datetime
    processed_at: datetime | None
    last_error: str | None
    gateway_txn_id: str
    kind: str
    payment_status: str
    amount: str
    currency: str
    occurred_at: str
    outcome: str
    response_code: str
    message: str
    masked_card: str
    customer: str
    order_ref: str
    invoice_ref: str
    original_txn_id: str

    @property
    def occurred(self) -> str:
        return self.occurred_at or self.received_at.isoformat()


@dataclass
class PaymentSummary:
    """A row of the payments list: the latest state seen of one gateway transaction."""

    gateway_txn_id: str
    latest: PaymentEvent
    events: int = 1
    postings: dict[str, int] = field(default_factory=dict)
    """State → count."""


@dataclass
class Timeline:
    """Everything stored about one payment, oldest first within each part."""

    gateway_txn_id: str
    events: list[PaymentEvent] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    risk: list[dict[str, Any]] = field(default_factory=list)
    """Its screened events: score, action, reasons (``[{code, detail, weight}]``)."""
    reviews: list[dict[str, Any]] = field(default_factory=list)
    """Its review-queue items (a held posting), with who decided and when."""

    @property
    def found(self) -> bool:
        return bool(self.events or self.postings or self.audit or self.risk)

    def entries(self) -> list[Entry]:
        """Everything above as one story, oldest first."""
        story = [entry for event in self.events for entry in _event_entries(event)]
        story += [entry for job in self.jobs for entry in _job_entries(job)]
        story += [entry for posting in self.postings for entry in _posting_entries(posting)]
        story += [
            Entry(row["at"], "audit", f"{row['action']} by {row['actor']}", "", row["subject"])
            for row in self.audit
        ]
        story += [_risk_entry(row) for row in self.risk]
        story += [entry for review in self.reviews for entry in _review_entries(review)]
        return sorted(story, key=lambda entry: entry.at)


@dataclass(frozen=True)
class Entry:
    """One line of a payment's story."""

    at: datetime
    what: str
    """``event``, ``job``, ``posting`` or ``audit``."""
    title: str
    state: str
    detail: str


def _event_entries(event: PaymentEvent) -> list[Entry]:
    title = f"{event.kind} {event.payment_status} received from {event.source}"
    entries = [Entry(event.received_at, "event", title, "received", event.message)]
    if event.processed_at is not None:
        detail = event.last_error or ""
        entries.append(Entry(event.processed_at, "event", "event processed", event.status, detail))
    return entries


def _job_entries(job: dict[str, Any]) -> list[Entry]:
    name = f"job {job['kind']} #{job['id']}"
    entries = [Entry(job["created_at"], "job", f"{name} queued", "pending", "")]
    for step in job["history"] or []:
        at = _moment(step.get("at") or step.get("replayed_at"))
        if at is None:
            continue
        if "replayed_at" in step:
            entries.append(Entry(at, "job", f"{name} replayed by {step.get('by')}", "pending", ""))
        else:
            title = f"{name} attempt {step.get('attempt')} failed"
            entries.append(Entry(at, "job", title, "failed", _text(step.get("error"))))
    if job["finished_at"] is not None:
        detail = _text(job["last_error"]) if job["status"] == "dead" else ""
        entries.append(Entry(job["finished_at"], "job", f"{name} finished", job["status"], detail))
    return entries


def _risk_entry(row: dict[str, Any]) -> Entry:
    title = f"{row['kind']} scored {row['score']:.2f}"
    if row["model_version"]:
        title += f" (model {row['model_version']})"
    return Entry(row["assessed_at"], "risk", title, row["action"], reason_text(row["reasons"]))


def reason_text(reasons: Any) -> str:
    """``code: detail`` of each reason, highest weight first."""
    listed = [r for r in reasons or [] if isinstance(r, dict)]
    listed.sort(key=lambda r: -float(r.get("weight", 0) or 0))
    return "; ".join(f"{r.get('code', '')}: {r.get('detail', '')}" for r in listed)


def _review_entries(review: dict[str, Any]) -> list[Entry]:
    name = f"{review['item_kind']} held for review #{review['id']}"
    entries = [Entry(review["created_at"], "risk", name, "pending", "")]
    if review["decided_at"] is not None:
        title = f"review #{review['id']} {review['state']} by {review['decided_by']}"
        entries.append(
            Entry(review["decided_at"], "risk", title, review["state"], review["comment"])
        )
    return entries


def _posting_entries(posting: dict[str, Any]) -> list[Entry]:
    name = f"posting {posting['reference']} ({posting['operation']})"
    amount = f"{posting['amount']} {posting['currency']} for {posting['customer_account'] or '?'}"
    entries = [Entry(posting["created_at"], "posting", f"{name} planned", "planned", amount)]
    if posting["posted_at"] is not None:
        where = f"journal {posting['journal_batch_number']} line {posting['line_number']}"
        entries.append(Entry(posting["posted_at"], "posting", f"{name} posted", "posted", where))
    elif posting["state"] != "planned":
        detail = _text(posting["last_error"])
        entries.append(Entry(posting["updated_at"], "posting", name, posting["state"], detail))
    return entries


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _part(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def payment_event(row: Any) -> PaymentEvent | None:
    """The event an inbox row holds, or None when it is not a payment document."""
    payload = row.payload if isinstance(row.payload, dict) else {}
    txn = payload.get("gateway_txn_id")
    if not txn:
        return None
    amount, token, customer = (_part(payload, name) for name in ("amount", "token", "customer"))
    return PaymentEvent(
        inbox_id=row.id,
        source=row.source,
        external_id=row.external_id,
        status=row.status,
        received_at=row.received_at,
        processed_at=row.processed_at,
        last_error=row.last_error,
        gateway_txn_id=str(txn),
        kind=_text(payload.get("kind")),
        payment_status=_text(payload.get("status")),
        amount=_text(amount.get("amount")),
        currency=_text(amount.get("currency")),
        occurred_at=_text(payload.get("occurred_at")),
        outcome=_text(payload.get("outcome")),
        response_code=_text(payload.get("response_code")),
        message=_text(payload.get("message")),
        masked_card=_text(token.get("masked_card")),
        customer=_text(customer.get("account") or customer.get("name")),
        order_ref=_text(payload.get("order_ref")),
        invoice_ref=_text(payload.get("invoice_ref")),
        original_txn_id=_text(payload.get("original_txn_id")),
    )


async def recent_payments(
    database: Database, *, search: str = "", limit: int = 50
) -> list[PaymentSummary]:
    """The most recently seen payments, newest first; ``search`` keeps transaction ids
    containing it."""
    search = search.strip()
    query = select(inbox).order_by(inbox.c.id.desc()).limit(PAYMENT_SCAN_LIMIT)
    if search:
        query = query.where(inbox.c.external_id.contains(search, autoescape=True))
    found: dict[str, PaymentSummary] = {}
    async with database.transaction() as conn:
        for row in await conn.execute(query):
            event = payment_event(row)
            if event is None or search not in event.gateway_txn_id:
                continue
            summary = found.get(event.gateway_txn_id)
            if summary is None:
                if len(found) == limit:
                    continue
                found[event.gateway_txn_id] = PaymentSummary(event.gateway_txn_id, event)
            else:
                summary.events += 1
        if found:
            states = select(postings.c.gateway_txn_id, postings.c.state).where(
                postings.c.gateway_txn_id.in_(list(found))
            )
            for txn, state in await conn.execute(states):
                counts = found[txn].postings
                counts[state] = counts.get(state, 0) + 1
    return list(found.values())


async def payment_timeline(database: Database, gateway_txn_id: str) -> Timeline:
    """Events, jobs, postings and audit entries of one gateway transaction."""
    timeline = Timeline(gateway_txn_id)
    async with database.transaction() as conn:
        rows = await conn.execute(
            select(inbox)
            .where(inbox.c.external_id.contains(f":{gateway_txn_id}:", autoescape=True))
            .order_by(inbox.c.id)
        )
        timeline.events = [
            event
            for event in map(payment_event, rows)
            if event is not None and event.gateway_txn_id == gateway_txn_id
        ]
        found_postings = await conn.execute(
            select(postings)
            .where(postings.c.gateway_txn_id == gateway_txn_id)
            .order_by(postings.c.id)
        )
        timeline.postings = [dict(row._mapping) for row in found_postings]
        timeline.jobs = await _jobs_of(
            conn, [event.inbox_id for event in timeline.events], gateway_txn_id
        )
        timeline.risk, timeline.reviews = await _risk_of(conn, gateway_txn_id)
        timeline.audit = await _audit_of(
            conn, gateway_txn_id, [posting["reference"] for posting in timeline.postings]
        )
    return timeline


async def _jobs_of(
    conn: AsyncConnection, inbox_ids: list[int], gateway_txn_id: str
) -> list[dict[str, Any]]:
    if not inbox_ids:
        return []
    keys = [f"inbox:{inbox_id}" for inbox_id in inbox_ids]
    replays = [jobs.c.dedupe_key.startswith(f"{key}:", autoescape=True) for key in keys]
    released = f"risk-release:posting:{gateway_txn_id}:"
    replays.append(jobs.c.dedupe_key.startswith(released, autoescape=True))
    rows = await conn.execute(
        select(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.status,
            jobs.c.attempts,
            jobs.c.max_attempts,
            jobs.c.created_at,
            jobs.c.finished_at,
            jobs.c.last_error,
            jobs.c.history,
            jobs.c.payload,
        )
        .where(or_(jobs.c.dedupe_key.in_(keys), *replays))
        .order_by(jobs.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def _risk_of(
    conn: AsyncConnection, gateway_txn_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    scored = await conn.execute(
        select(risk_assessments)
        .where(risk_assessments.c.transaction_id == gateway_txn_id)
        .order_by(risk_assessments.c.id)
    )
    held = await conn.execute(
        select(risk_reviews)
        .where(risk_reviews.c.transaction_id == gateway_txn_id)
        .order_by(risk_reviews.c.id)
    )
    return [dict(row._mapping) for row in scored], [dict(row._mapping) for row in held]


async def _audit_of(
    conn: AsyncConnection, gateway_txn_id: str, references: list[str]
) -> list[dict[str, Any]]:
    # Replayed postings are deleted; their deterministic references still name the payment.
    about_payment = audit_log.c.subject.contains(f"-{gateway_txn_id}-", autoescape=True)
    rows = await conn.execute(
        select(audit_log)
        .where(or_(about_payment, audit_log.c.subject.in_(references)))
        .order_by(audit_log.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def event_postings(database: Database, inbox_id: int) -> list[dict[str, Any]]:
    """The postings an inbox event led to, oldest first."""
    async with database.transaction() as conn:
        rows = await conn.execute(
            select(postings).where(postings.c.inbox_id == inbox_id).order_by(postings.c.id)
        )
        return [dict(row._mapping) for row in rows]
