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


# ---- ACH (PayTrace checks) -------------------------------------------------------------------


def ach(kind: PaymentKind, status: PaymentStatus = PaymentStatus.APPROVED, **extra) -> Payment:
    values = {"order_ref": "SO-1", "amount": Money.of("42.10"), **extra}
    return Payment("CHK-981619", kind, status, values.pop("amount"), WHEN, **values)


def test_an_ach_sale_is_a_customer_payment_line_like_a_card_sale():
    plan = plan_posting(ach(PaymentKind.ACH_SALE))
    assert (plan.line.operation, plan.line.is_credit) == (LedgerOperation.PAYMENT, True)
    assert plan.line.reference == "PT-CHK-981619-PAY"
    assert (plan.line.amount, plan.line.gateway_txn_id) == (Money.of("42.10"), "CHK-981619")
    assert plan.order_update.status is OrderPaymentStatus.PAID


def test_an_ach_refund_is_a_reversing_line_of_the_refund_amount():
    refund = Payment(
        "CHK-981620",
        PaymentKind.ACH_REFUND,
        PaymentStatus.APPROVED,
        Money.of("10.00"),
        WHEN,
        original_txn_id="CHK-981619",
    )
    plan = plan_posting(refund)
    assert (plan.line.operation, plan.line.is_credit) == (LedgerOperation.REFUND, False)
    assert (plan.line.reference, plan.line.amount) == ("PT-CHK-981620-REF", Money.of("10.00"))
    assert plan.order_update is None  # no order reference on the refund


def test_a_settled_ach_sale_plans_the_same_line_as_the_approved_one():
    assert (
        plan_posting(ach(PaymentKind.ACH_SALE, PaymentStatus.SETTLED)).line
        == plan_posting(ach(PaymentKind.ACH_SALE)).line
    )


def test_a_declined_check_posts_nothing_and_tells_the_order_why():
    declined = ach(
        PaymentKind.ACH_SALE,
        PaymentStatus.DECLINED,
        outcome=Outcome.SOFT_DECLINE,
        message="Check not accepted by the ACH processor.",
    )
    plan = plan_posting(declined)
    assert plan.line is None
    assert plan.order_update.status is OrderPaymentStatus.DECLINED
    assert plan.order_update.reason == "Check not accepted by the ACH processor."


@pytest.mark.parametrize(
    ("journal_posted", "operation", "reference"),
    [
        (False, LedgerOperation.REMOVAL, "PT-CHK-981619-REM"),
        (True, LedgerOperation.REVERSAL, "PT-CHK-981619-REV"),
    ],
)
def test_a_voided_check_removes_or_reverses_its_line(journal_posted, operation, reference):
    original = OriginalLine(reference="PT-CHK-981619-PAY", journal_posted=journal_posted)
    plan = plan_posting(ach(PaymentKind.ACH_SALE, PaymentStatus.VOIDED), voided_line=original)
    assert (plan.line.operation, plan.line.reference) == (operation, reference)
    assert plan.line.target_reference == "PT-CHK-981619-PAY"
    assert plan.order_update.status is OrderPaymentStatus.VOIDED


def test_a_voided_check_that_never_posted_changes_only_the_order():
    plan = plan_posting(ach(PaymentKind.ACH_SALE, PaymentStatus.VOIDED))
    assert plan.line is None and plan.order_update.status is OrderPaymentStatus.VOIDED
