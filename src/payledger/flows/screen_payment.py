"""Screen one payment event entering payledger: score it, record it, and in ``enforce`` mode
decide whether its posting goes ahead.

Every source (poller, webhooks, payments API, backfill) meets in the ``payment.process`` job,
which screens each event before posting it. Screening never blocks or breaks ingest: a
scorer that fails scores nothing and allows (one ``risk-model`` alert says so); only a
review the screen itself opened, or an operator's rejection, keeps a posting back.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

import structlog

from payledger.domain.model import Payment, PaymentKind, PaymentStatus
from payledger.domain.risk import Action, Assessment, RiskSubject, SubjectKind
from payledger.flows.ports.risk import ReviewState
from payledger.flows.screen_alerts import alert_on
from payledger.flows.screening import Screen, ScreenPolicy, assess

log = structlog.get_logger(__name__)

__all__ = ["Screen", "ScreenPolicy", "Verdict", "screen_payment", "subject_of"]


class Verdict(StrEnum):
    POST = "post"
    """Go ahead: allowed, approved, or not held (shadow mode)."""
    HELD = "held"
    """Waiting in the review queue; the approval processes the event again."""
    REJECTED = "rejected"
    """An operator rejected it: never posted."""


def subject_of(payment: Payment) -> RiskSubject | None:
    """The event as the screen sees it; None for voids, which move no money."""
    if payment.kind is PaymentKind.VOID or payment.status is PaymentStatus.VOIDED:
        return None
    token, customer = payment.token, payment.customer
    card = ""
    if token is not None:
        card = token.vault_customer_id or f"{token.masked_card}|{token.expires}"
    return RiskSubject(
        transaction_id=payment.gateway_txn_id,
        kind=_kind(payment),
        amount=payment.amount,
        occurred_at=payment.occurred_at,
        customer_id=customer.gateway_customer_id if customer else "",
        card_token=card,
        billing_zip=customer.billing_address.postal_code.strip()[:16] if customer else "",
        ip_address=payment.ip_address[:45],
        avs_result=payment.avs_result[:80],
        csc_result=payment.csc_result[:40],
        invoice_ref=payment.invoice_ref[:80],
        original_transaction_id=payment.original_txn_id,
    )


def _kind(payment: Payment) -> SubjectKind:
    if payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        return SubjectKind.DECLINE
    if payment.kind is PaymentKind.AUTHORIZATION:
        return SubjectKind.AUTHORIZATION
    if payment.kind.moves_money_out:
        return SubjectKind.REFUND
    return SubjectKind.SALE


async def screen_payment(inbox_id: int, payment: Payment, screen: Screen) -> Verdict:
    """Score ``payment`` once, and say whether its posting may go ahead now."""
    subject = subject_of(payment)
    if subject is None:
        return Verdict.POST
    assessment = await screen.store.assessment(subject.transaction_id, subject.kind)
    if assessment is None:
        subject, assessment = await _assess(subject, screen)
        if await screen.store.record(subject, assessment, screen.clock.now()):
            await alert_on(subject, assessment, screen)
    if not screen.policy.enforce:
        return Verdict.POST
    state = await screen.store.hold_posting(
        subject, inbox_id, assessment, open_review=assessment.action is Action.REVIEW
    )
    if state is ReviewState.PENDING:
        return Verdict.HELD
    return Verdict.REJECTED if state is ReviewState.REJECTED else Verdict.POST


async def _assess(subject: RiskSubject, screen: Screen) -> tuple[RiskSubject, Assessment]:
    if subject.kind is SubjectKind.REFUND and subject.original_transaction_id:
        original = await screen.store.card_of(subject.original_transaction_id)
        subject = replace(subject, original_card_token=original)
    return subject, await assess(subject, screen)
