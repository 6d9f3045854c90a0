"""PayTrace ⇄ canonical model: Pacific text times, kinds, statuses and event keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.adapters.paytrace import (
    PayTraceTransaction,
    PayTraceTransactionResult,
    event_key,
    parse_pacific,
    payment_from_export,
    payment_from_result,
)
from payledger.adapters.paytrace.translate import lookup_window, request_date
from payledger.domain import Money, Outcome, PaymentKind, PaymentStatus


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("4/10/2015 4:06:30 PM", datetime(2015, 4, 10, 23, 6, 30, tzinfo=UTC)),  # PDT, UTC-7
        ("3/24/2026 10:15:02 AM", datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)),
        ("1/5/2026 12:00:00 AM", datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)),  # PST, midnight
        ("1/5/2026 12:30:00 PM", datetime(2026, 1, 5, 20, 30, 0, tzinfo=UTC)),  # noon
        ("03/08/2026 01:59:59 AM", datetime(2026, 3, 8, 9, 59, 59, tzinfo=UTC)),  # before DST
        ("3/8/2026 3:00:00 AM", datetime(2026, 3, 8, 10, 0, 0, tzinfo=UTC)),  # after DST starts
        ("11/1/2026 1:30:00 AM", datetime(2026, 11, 1, 8, 30, 0, tzinfo=UTC)),  # fall back: PDT
        ("11/1/2026 2:30:00 AM", datetime(2026, 11, 1, 10, 30, 0, tzinfo=UTC)),  # PST again
        ("  4/10/2015  4:06:30 PM ", datetime(2015, 4, 10, 23, 6, 30, tzinfo=UTC)),
    ],
)
def test_pacific_text_becomes_aware_utc(text, utc):
    parsed = parse_pacific(text)
    assert parsed == utc and parsed.tzinfo is UTC


def test_a_time_in_the_spring_gap_reads_with_the_earlier_offset():
    assert parse_pacific("3/8/2026 2:30:00 AM") == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_the_vendor_zone_is_a_parameter():
    assert parse_pacific("1/5/2026 9:00:00 AM", ZoneInfo("America/New_York")).hour == 14


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    )
)
def test_pacific_text_round_trips_outside_the_ambiguous_hour(moment):
    local = moment.astimezone(ZoneInfo("America/Los_Angeles")).replace(microsecond=0)
    if local.fold or local.utcoffset() != local.replace(fold=1).utcoffset():
        return  # the repeated autumn hour cannot be told apart from its text
    hour = local.hour % 12 or 12
    text = f"{local.month}/{local.day}/{local.year} {hour}:{local:%M:%S} {local:%p}"
    assert parse_pacific(text) == local.astimezone(UTC)


def test_request_dates_are_vendor_local():
    late_evening = datetime(2026, 3, 25, 5, 0, tzinfo=UTC)  # 10 PM on the 24th in Pacific
    assert request_date(late_evening) == "03/24/2026"
    assert [d.isoformat() for d in lookup_window(late_evening, late_evening)] == [
        "2026-03-23",
        "2026-03-25",
    ]


def record(**fields) -> PayTraceTransaction:
    base = {
        "transaction_id": 79388123,
        "transaction_type": "SALE",
        "amount": Decimal("110"),
        "approval_code": "VTLMC1",
        "status_code": "",
        "settled": "",
        "created": {"through": "API", "at": "4/10/2015 4:06:30 PM", "by": "sandbox123"},
        "credit_card": {
            "masked_number": "************5454",
            "expiration_month": 12,
            "expiration_year": 20,
        },
    }
    return PayTraceTransaction.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "kind", "status"),
    [
        ({}, PaymentKind.SALE, PaymentStatus.APPROVED),
        ({"settled": "4/10/2015 8:13:45 PM"}, PaymentKind.SALE, PaymentStatus.SETTLED),
        ({"approval_code": ""}, PaymentKind.SALE, PaymentStatus.DECLINED),
        ({"status_code": "VOIDED"}, PaymentKind.SALE, PaymentStatus.VOIDED),
        (
            {"transaction_type": "AUTHORIZATION", "status_code": "AUTHORIZED"},
            PaymentKind.AUTHORIZATION,
            PaymentStatus.APPROVED,
        ),
        (
            {"transaction_type": "AUTHORIZATION", "status_code": "PENDING"},
            PaymentKind.CAPTURE,
            PaymentStatus.APPROVED,
        ),
        (
            {"transaction_type": "AUTHORIZATION", "status_code": "SETTLED"},
            PaymentKind.CAPTURE,
            PaymentStatus.SETTLED,
        ),
        (
            {"transaction_type": "AUTHORIZATION", "status_code": "VOIDED"},
            PaymentKind.AUTHORIZATION,
            PaymentStatus.VOIDED,
        ),
        (
            {"transaction_type": "REFUND", "status_code": "PENDING"},
            PaymentKind.REFUND,
            PaymentStatus.APPROVED,
        ),
    ],
)
def test_types_and_statuses_map_to_canonical_kinds(fields, kind, status):
    payment = payment_from_export(record(**fields))
    assert (payment.kind, payment.status) == (kind, status)


def test_export_record_to_payment():
    payment = payment_from_export(
        record(
            invoice_id="inv1234",
            customer_reference_id="PO123456",
            customer_id="cust-1",
            billing_address={"name": "Kevin", "street_address": "8320 E. West St.", "zip": "85284"},
            discretionary_data={"Project Code": "A17"},
            batch_number=413,
        )
    )

    assert payment.gateway_txn_id == "79388123"
    assert payment.amount == Money.of("110.00")
    assert payment.occurred_at == datetime(2015, 4, 10, 23, 6, 30, tzinfo=UTC)
    assert (payment.invoice_ref, payment.order_ref, payment.batch_number) == (
        "inv1234",
        "PO123456",
        "413",
    )
    assert payment.customer.name == "Kevin"
    assert payment.customer.billing_address.lines == ("8320 E. West St.",)
    assert payment.token.vault_customer_id == "cust-1"
    assert payment.token.expires == "12/20"
    assert payment.custom_fields == {"Project Code": "A17"}


def test_synchronous_result_to_payment():
    result = PayTraceTransactionResult(
        success=False,
        response_code=102,
        transaction_id=5,
        approval_message="  EXPIRED CARD - Expired card",
        masked_card_number="xxxxxxxxxxxx5439",
    )
    payment = payment_from_result(
        result,
        kind=PaymentKind.SALE,
        amount=Decimal("0.29"),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        invoice_ref="INV-1",
    )

    assert (payment.status, payment.outcome) == (PaymentStatus.DECLINED, Outcome.HARD_DECLINE)
    assert payment.message == "Declined by the card issuer. Expired card."
    assert payment.token.masked_card == "xxxxxxxxxxxx5439"


def test_a_void_result_is_a_voided_payment_of_the_original():
    result = PayTraceTransactionResult(success=True, response_code=109, transaction_id=77)
    payment = payment_from_result(
        result,
        kind=PaymentKind.VOID,
        amount=Decimal("5.00"),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert (payment.gateway_txn_id, payment.status) == ("77", PaymentStatus.VOIDED)


def test_event_key_is_stable_and_changes_with_the_state():
    approved = payment_from_export(record())
    again = payment_from_export(record())
    settled = payment_from_export(record(settled="4/10/2015 8:13:45 PM"))

    assert event_key(approved) == event_key(again) == "paytrace:79388123:sale:approved"
    assert event_key(settled) == "paytrace:79388123:sale:settled"
