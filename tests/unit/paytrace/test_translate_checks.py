"""PayTrace check (ACH) export records ⇄ canonical ACH payments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payledger.adapters.paytrace import (
    PayTraceCheckRecord,
    PayTraceTransaction,
    event_key,
    payment_from_check,
    payment_from_export,
)
from payledger.adapters.paytrace.schemas import PayTraceTransactions
from payledger.adapters.paytrace.translate_checks import check_id_of, check_txn_id
from payledger.domain import Money, Outcome, PaymentKind, PaymentStatus
from payledger.domain.posting import LedgerOperation, payment_reference, plan_posting

CREATED = {"through": "API", "at": "3/24/2026 10:15:02 AM", "by": "demo123"}


def check(**fields) -> PayTraceCheckRecord:
    base = {
        "check_transaction_id": 981619,
        "transaction_type": "CHECK SALE",
        "amount": Decimal("42.10"),
        "check": {"masked_account_number": "xx3456", "routing_number": "325070760"},
        "status_code": "PENDING",
        "created": CREATED,
    }
    return PayTraceCheckRecord.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "kind", "status"),
    [
        ({}, PaymentKind.ACH_SALE, PaymentStatus.APPROVED),
        ({"status_code": "SETTLED"}, PaymentKind.ACH_SALE, PaymentStatus.SETTLED),
        ({"status_code": "VOIDED"}, PaymentKind.ACH_SALE, PaymentStatus.VOIDED),
        ({"status_code": "DECLINED"}, PaymentKind.ACH_SALE, PaymentStatus.DECLINED),
        (
            {"transaction_type": "CHECK HOLD", "status_code": "HELD"},
            PaymentKind.AUTHORIZATION,
            PaymentStatus.APPROVED,
        ),
        (  # a funded hold is money received
            {"transaction_type": "CHECK HOLD", "status_code": "PENDING"},
            PaymentKind.ACH_SALE,
            PaymentStatus.APPROVED,
        ),
        (  # a hold voided before funding: nothing was ever posted for it
            {"transaction_type": "CHECK HOLD", "status_code": "VOIDED"},
            PaymentKind.ACH_SALE,
            PaymentStatus.VOIDED,
        ),
        (
            {"transaction_type": "CHECK REFUND", "original_check_id": 981618},
            PaymentKind.ACH_REFUND,
            PaymentStatus.APPROVED,
        ),
        (
            {"transaction_type": "CHECK REFUND", "status_code": "SETTLED"},
            PaymentKind.ACH_REFUND,
            PaymentStatus.SETTLED,
        ),
    ],
)
def test_check_types_and_statuses_map_to_canonical_kinds(fields, kind, status):
    payment = payment_from_check(check(**fields))
    assert (payment.kind, payment.status) == (kind, status)


def test_a_check_record_becomes_an_ach_payment():
    payment = payment_from_check(
        check(
            invoice_id="WEB-00017",
            customer_reference_id="PG-ORDER-1001",
            customer_id="ach-1",
            billing_address={"name": "Steve Smith", "zip": "85284"},
            discretionary_data={"D365 Customer": "US-002"},
        )
    )

    assert payment.gateway_txn_id == "CHK-981619"
    assert payment.amount == Money.of("42.10")
    assert payment.occurred_at == datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)
    assert (payment.outcome, payment.response_code, payment.message) == (
        Outcome.APPROVED,
        "120",
        "Check accepted.",
    )
    assert (payment.invoice_ref, payment.order_ref) == ("WEB-00017", "PG-ORDER-1001")
    assert payment.customer.gateway_customer_id == "ach-1"
    assert payment.custom_fields == {"D365 Customer": "US-002"}
    assert payment.token is None  # a bank account is not a card token


def test_a_check_refund_points_at_its_sale_by_check_id():
    refund = payment_from_check(
        check(
            check_transaction_id=981620, transaction_type="CHECK REFUND", original_check_id=981619
        )
    )
    assert (refund.gateway_txn_id, refund.original_txn_id) == ("CHK-981620", "CHK-981619")
    assert refund.response_code == "122"
    assert payment_from_check(check(transaction_type="CHECK REFUND")).original_txn_id == ""


def test_a_declined_check_is_a_soft_decline_that_posts_nothing():
    declined = payment_from_check(check(status_code="DECLINED"))
    assert (declined.outcome, declined.response_code) == (Outcome.SOFT_DECLINE, "125")
    assert declined.message == "Check not accepted by the ACH processor."
    assert plan_posting(declined).line is None


def test_an_unknown_check_status_posts_nothing_rather_than_guess():
    returned = payment_from_check(check(status_code="RETURNED"))
    assert (returned.status, returned.outcome) == (PaymentStatus.DECLINED, Outcome.ERROR)
    assert "RETURNED" in returned.message
    assert plan_posting(returned).line is None


def test_check_and_card_ids_never_collide_in_payledger_keys():
    card = payment_from_export(
        PayTraceTransaction.model_validate(
            {"transaction_id": 981619, "amount": 5, "approval_code": "TAS1", "created": CREATED}
        )
    )
    ach = payment_from_check(check(check_transaction_id=981619))

    assert card.gateway_txn_id != ach.gateway_txn_id
    assert event_key(card) != event_key(ach)
    assert event_key(ach) == "paytrace:CHK-981619:ach_sale:approved"
    assert payment_reference(ach.gateway_txn_id, LedgerOperation.PAYMENT) == "PT-CHK-981619-PAY"
    assert payment_reference(card.gateway_txn_id, LedgerOperation.PAYMENT) == "PT-981619-PAY"


def test_check_ids_round_trip_and_card_ids_are_not_checks():
    assert check_id_of(check_txn_id(981601)) == 981601
    assert check_id_of("981601") is None
    assert check_id_of("CHK-abc") is None


def test_check_records_in_a_transaction_export_are_told_apart():
    reply = PayTraceTransactions.model_validate(
        {
            "success": True,
            "response_code": 1,
            "transactions": [
                {"transaction_id": 1, "amount": 5, "created": CREATED},
                {"check_transaction_id": 981619, "amount": 7, "created": CREATED},
            ],
        }
    )
    assert [t.transaction_id for t in reply.transactions] == [1]
    assert [c.check_transaction_id for c in reply.checks] == [981619]


def test_a_separate_check_export_fills_checks():
    reply = PayTraceTransactions.model_validate(
        {
            "success": True,
            "response_code": 1,
            "checks": [{"check_transaction_id": 981619, "amount": 7, "created": CREATED}],
        }
    )
    assert reply.transactions == [] and reply.checks[0].amount == Decimal("7")
