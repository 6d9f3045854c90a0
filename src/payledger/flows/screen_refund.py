"""Screen a refund asked for through the payments API before the gateway is called.

A refund is screened (:func:`~payledger.flows.screen_charge.screen_item`) as the refund
subject it would make: the sale it returns (its amount, time, card and customer, as the
sale's own screening recorded them), so the refund rules (larger than the sale, later than
usual, to another card, too frequent) see what they need. Each request is one review item,
keyed ``<payment>:<digest of client and Idempotency-Key>``; while one of a payment's refunds
waits for review (or is approved and not made yet), no other refund of it is started.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from payledger.domain.charges import ChargeRecord
from payledger.domain.errors import DomainError
from payledger.domain.model import PaymentKind
from payledger.domain.money import Money
from payledger.domain.risk import RiskSubject, SubjectKind
from payledger.flows.ports.risk import HeldKind, ReviewItem, ReviewState
from payledger.flows.screen_charge import ItemScreen, Screened, is_made, pending_id, screen_item


class RefundStatus(StrEnum):
    """Where a screened refund request stands."""

    HELD = "held"
    """Waiting for an operator; not refunded."""
    APPROVED = "approved"
    """Approved; its release job is about to refund it."""
    REFUNDED = "refunded"
    """Approved and refunded (``refund_id`` is the gateway's refund)."""
    REJECTED = "rejected"
    """Rejected by an operator: never refunded."""


class RefundWaiting(DomainError):
    """Another refund of the payment waits for risk review; it is decided first."""


def refund_key(payment_id: str, client: str, request_key: str) -> str:
    """The review key of one refund request: the payment, and a digest of who asked with
    which ``Idempotency-Key`` (so a retried request is the same item)."""
    digest = hashlib.sha256(f"{client}\n{request_key}".encode()).hexdigest()[:16]
    return f"{payment_id}:{digest}"


def refunds_of(payment_id: str) -> str:
    """The prefix of the review keys of ``payment_id``'s refunds."""
    return f"{payment_id}:"


def refund_status(item: ReviewItem) -> RefundStatus:
    if item.state is ReviewState.PENDING:
        return RefundStatus.HELD
    if item.state is ReviewState.REJECTED:
        return RefundStatus.REJECTED
    return RefundStatus.REFUNDED if is_made(item) else RefundStatus.APPROVED


async def screen_refund(
    original: ChargeRecord, amount: Money, key: str, items: ItemScreen, now: datetime
) -> Screened:
    """Screen the refund ``key`` of ``amount`` of ``original``.

    Raises:
        Held: it waits for review. Rejected: an operator rejected it.
        RefundWaiting: another refund of the payment waits for review.
    """
    txn = original.gateway_txn_id
    for item in await items.holds.reviews_under(HeldKind.REFUND, refunds_of(txn)):
        if item.ref != key and refund_status(item) in (RefundStatus.HELD, RefundStatus.APPROVED):
            raise RefundWaiting(
                f"refund {item.id} of payment {txn} waits for risk review "
                f"({refund_status(item).value}); ask again once it is decided"
            )
    sale = await items.screen.store.screened(txn)
    card = sale.card_token if sale is not None else ""
    captured = original.kind is PaymentKind.AUTHORIZATION
    subject = RiskSubject(
        transaction_id=pending_id(HeldKind.REFUND, key),
        kind=SubjectKind.REFUND,
        amount=amount,
        occurred_at=now,
        customer_id=sale.customer_id if sale is not None else "",
        card_token=card,  # a refund of a transaction goes back to the sale's card
        invoice_ref=original.invoice_number or original.sales_order_number,
        original_transaction_id=txn,
        original_card_token=card,
        original_amount=original.captured if captured else original.amount,
        original_occurred_at=original.created_at,
    )
    return await screen_item(HeldKind.REFUND, key, subject, items)


__all__ = [
    "RefundStatus",
    "RefundWaiting",
    "refund_key",
    "refund_status",
    "refunds_of",
    "screen_refund",
]
