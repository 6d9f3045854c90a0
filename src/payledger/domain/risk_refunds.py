"""The refund rules: larger than its sale, later than usual, to another card, too frequent."""

from __future__ import annotations

from datetime import timedelta

from payledger.domain.risk import Reason, RiskHistory, RiskSubject, SubjectKind
from payledger.domain.risk_rules import RuleLimits, reason_for


def refund_larger(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """A refund above ``refund_factor`` times its sale; when the sale is not known, times the
    customer's largest payment; with no payment on record at all, any refund."""
    if subject.kind is not SubjectKind.REFUND:
        return []
    amount = subject.amount.amount
    if subject.original_amount is not None:
        reference, what = subject.original_amount.amount, "its sale"
    elif history.customer.largest is not None:
        reference, what = history.customer.largest.amount, "the customer's largest payment"
    else:
        detail = f"refund of {amount} with no payment of this customer on record"
        return reason_for(limits, "refund_larger", detail)
    if amount <= reference * limits.refund_factor:
        return []
    detail = f"refund of {amount} against {reference}, {what}"
    return reason_for(limits, "refund_larger", detail)


def refund_late(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """A refund more than ``refund_late_days`` after its sale."""
    sold = subject.original_occurred_at
    if subject.kind is not SubjectKind.REFUND or sold is None:
        return []
    age = subject.occurred_at - sold
    if age <= timedelta(days=limits.refund_late_days):
        return []
    detail = f"refund {age.days} days after the sale (limit {limits.refund_late_days})"
    return reason_for(limits, "refund_late", detail)


def refund_other_card(
    subject: RiskSubject, history: RiskHistory, limits: RuleLimits
) -> list[Reason]:
    """A refund to another card than the one the sale was made on."""
    if subject.kind is not SubjectKind.REFUND:
        return []
    if not subject.card_token or not subject.original_card_token:
        return []
    if subject.card_token == subject.original_card_token:
        return []
    return reason_for(limits, "refund_other_card", "refund to another card than the sale's")


def refund_frequent(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """A customer with at least ``refund_count`` earlier refunds, as many as ``refund_share``
    of their payments, asks for another."""
    refunds, payments = history.customer.refunds, history.customer.payments
    if subject.kind is not SubjectKind.REFUND or refunds < limits.refund_count:
        return []
    if refunds < limits.refund_share * payments:
        return []
    detail = f"{refunds} earlier refunds against {history.customer.payments} payments"
    return reason_for(limits, "refund_frequent", detail)
