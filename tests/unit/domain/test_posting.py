"""Posting rules: what each payment event must become in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payledger.domain import Money, Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.posting import (
    LedgerOperation,
    OrderPaymentStatus,
    OriginalLine,
    payment_reference,
    plan_posting,
)

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


def payment(kind: PaymentKind, status: PaymentStatus = PaymentStatus.APPROVED, **extra) -> Payment:
    defaults = {"order_ref": "SO-1", "amount": Money.of("25.00")}
    values = {**defaults, **extra}
    return Payment("1001", kind, status, values.pop("amount"), WHEN, **values)


@pytest.mark.parametrize("kind", [PaymentKind.SALE, PaymentKind.CAPTURE, PaymentKind.ACH_SALE])
def test_money_in_credits_the_customer_and_marks_the_order_paid(kind):
    plan = plan_posting(payment(kind))
    assert plan.line.operation is LedgerOperation.PAYMENT
    assert plan.line.is_credit
    assert plan.line.amount == Money.of("25.00")
    assert plan.line.reference == "PT-1001-PAY"
    assert plan.order_update.status is OrderPaymentStatus.PAID


@pytest.mark.parametrize("kind", [PaymentKind.REFUND, PaymentKind.ACH_REFUND])
def test_money_out_debits_the_customer(kind):
    plan = plan_posting(payment(kind, original_txn_id="1000"))
    assert plan.line.operation is LedgerOperation.REFUND
    assert not plan.line.is_credit
    assert plan.order_update.status is OrderPaymentStatus.REFUNDED


def test_an_authorization_posts_nothing_but_updates_the_order():
    plan = plan_posting(payment(PaymentKind.AUTHORIZATION, auth_code="TAS123"))
    assert plan.line is None
    assert plan.order_update.status is OrderPaymentStatus.AUTHORIZED
    assert plan.order_update.auth_code == "TAS123"


def test_a_decline_posts_nothing_and_carries_the_reason_to_the_order():
    declined = payment(
        PaymentKind.SALE,
        PaymentStatus.DECLINED,
        outcome=Outcome.SOFT_DECLINE,
        message="Insufficient funds",
    )
    plan = plan_posting(declined)
    assert plan.line is None
    assert (plan.order_update.status, plan.order_update.reason) == (
        OrderPaymentStatus.DECLINED,
        "Insufficient funds",
    )


def test_a_void_removes_a_line_still_in_an_unposted_journal():
    original = OriginalLine(reference="PT-1001-PAY", journal_posted=False)
    plan = plan_posting(payment(PaymentKind.SALE, PaymentStatus.VOIDED), voided_line=original)
    assert plan.line.operation is LedgerOperation.REMOVAL
    assert plan.line.target_reference == "PT-1001-PAY"
    assert plan.order_update.status is OrderPaymentStatus.VOIDED


def test_a_void_of_a_posted_line_posts_a_reversal():
    original = OriginalLine(reference="PT-1001-PAY", journal_posted=True)
    plan = plan_posting(payment(PaymentKind.SALE, PaymentStatus.VOIDED), voided_line=original)
    assert plan.line.operation is LedgerOperation.REVERSAL
    assert not plan.line.is_credit
    assert plan.line.reference == "PT-1001-REV"


def test_a_void_of_something_never_posted_changes_only_the_order():
    plan = plan_posting(payment(PaymentKind.AUTHORIZATION, PaymentStatus.VOIDED))
    assert plan.line is None
    assert plan.order_update.status is OrderPaymentStatus.VOIDED


def test_without_an_order_there_is_no_order_update():
    assert plan_posting(payment(PaymentKind.SALE, order_ref="")).order_update is None
    assert plan_posting(payment(PaymentKind.AUTHORIZATION, order_ref="")).is_empty


def test_references_are_deterministic_and_distinct_per_operation():
    references = {payment_reference("1001", op) for op in LedgerOperation}
    assert len(references) == len(LedgerOperation)
    assert payment_reference("1001", LedgerOperation.PAYMENT) == payment_reference(
        "1001", LedgerOperation.PAYMENT
    )
