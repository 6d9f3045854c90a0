"""Daily-summary mode, pure: a settled batch becomes one line per method and a fee line, and
reconciliation matches those lines against D365 by reference."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus, PaymentToken
from payledger.domain.money import Money
from payledger.domain.posting import LedgerOperation, Posting
from payledger.domain.reconcile import Discrepancy, TxnState
from payledger.domain.reconcile.summary import match_summaries, settled_batches
from payledger.domain.summary import (
    DetailRow,
    PaymentDetail,
    SettledBatch,
    SummaryMember,
    detail_csv,
    payment_detail,
    summary_lines,
    summary_reference,
)
from tests.unit.domain.reconcile_builders import DAY, FEES, PERIOD, RULES, line, txn

PAY, REF = LedgerOperation.PAYMENT, LedgerOperation.REFUND
ON = date(2026, 3, 1)


def member(txn_id: str, method: str, amount: str, operation: LedgerOperation = PAY):
    return SummaryMember("413", txn_id, method, operation, Money.of(amount))


def batch(*members: SummaryMember, fees: str = "0") -> SettledBatch:
    return SettledBatch("413", ON, "USD", members, Money.of(fees))


def test_one_line_per_method_net_of_refunds_then_the_fee_line():
    lines = summary_lines(
        batch(
            member("1", "VISA", "100.00"),
            member("2", "VISA", "50.25"),
            member("3", "VISA", "20.00", REF),
            member("4", "MASTERCARD", "10.00"),
            fees="4.66",
        )
    )
    assert [(x.method, x.amount, x.count, x.reference) for x in lines] == [
        ("MASTERCARD", Money.of("10.00"), 1, "PT-SUM-413-MASTERCARD"),
        ("VISA", Money.of("130.25"), 3, "PT-SUM-413-VISA"),
        ("FEE", -Money.of("4.66"), 0, "PT-SUM-413-FEE"),
    ]
    assert [x.is_fee for x in lines] == [False, False, True]


def test_refunds_outweighing_sales_make_a_debit_and_a_method_netting_to_zero_no_line():
    lines = summary_lines(
        batch(
            member("1", "AMEX", "30.00", REF),
            member("2", "VISA", "15.00"),
            member("3", "VISA", "15.00", REF),
        )
    )
    assert [(x.method, x.amount) for x in lines] == [("AMEX", -Money.of("30.00"))]


def test_a_line_is_keyed_by_batch_and_method_whatever_is_in_it():
    [first] = summary_lines(batch(member("1", "VISA", "1.00")))
    [again] = summary_lines(batch(member("9", "VISA", "7.00")))
    assert (first.gateway_txn_id, first.operation) == ("batch:413", "summary:VISA")
    assert (again.gateway_txn_id, again.operation, again.reference) == (
        first.gateway_txn_id,
        first.operation,
        first.reference,
    )
    posting = Posting(
        first.reference, first.gateway_txn_id, first.operation, "usmf", "2026-03-01",
        first.amount, {},
    )  # fmt: skip
    assert posting.is_line  # the journal flush writes it like any payment line


def test_settled_transactions_group_by_batch_and_checks_by_day_with_expected_fees():
    batches = settled_batches(
        [
            txn("10", 10_000, card="VISA"),
            txn("11", 2_000, card="VISA", refund=True),
            txn("12", 5_000, card="mastercard"),
            txn("13", 31_000, card="ACH", batch="ACH"),
            txn("14", 999, state=TxnState.PENDING),
            txn("15", 999, in_period=False, batch="400"),
        ],
        FEES,
    )
    assert [(b.number, b.settled_on, b.fees) for b in batches] == [
        ("413", ON, Money.of("3.20")),  # 2.9% + 0.30 of the one Visa sale; refunds cost none
        ("ACH-20260301", ON, Money.of("0")),
    ]
    assert [(m.txn_id, m.method, m.signed) for m in batches[0].members] == [
        ("10", "VISA", Money.of("100.00")),
        ("11", "VISA", -Money.of("20.00")),
        ("12", "MASTERCARD", Money.of("50.00")),
    ]
    assert [m.method for m in batches[1].members] == ["ACH"]


def expected():
    return summary_lines(
        batch(member("1", "VISA", "100.00"), member("2", "AMEX", "30.00", REF), fees="3.20")
    )


def test_lines_carrying_the_expected_amounts_match():
    recon = match_summaries(
        expected(),
        [
            line("PT-SUM-413-AMEX", -3_000),
            line("PT-SUM-413-VISA", 10_000),
            line("PT-SUM-413-FEE", -320),
        ],
        RULES,
        PERIOD,
    )
    assert recon.notable == []
    assert len(recon.matched_txns) == 3


def test_each_difference_gets_its_class():
    recon = match_summaries(
        expected(),
        [
            line("PT-SUM-413-VISA", 9_999),
            line("PT-SUM-413-FEE", -320),
            line("PT-SUM-413-FEE", -320),
            line("PT-SUM-999-VISA", 500),
            line("PT-SUM-998-VISA", 500, day=DAY - 5),
        ],
        RULES,
        PERIOD,
    )
    kinds = {
        (item.kind, recon.txns[item.txn].txn_id if item.txn >= 0 else "", item.exception)
        for item in recon.notable
    }
    assert kinds == {
        (Discrepancy.AMOUNT_MISMATCH, "PT-SUM-413-VISA", True),
        (Discrepancy.DUPLICATE_IN_D365, "PT-SUM-413-FEE", True),
        (Discrepancy.MISSING_IN_D365, "PT-SUM-413-AMEX", True),
        (Discrepancy.MISSING_IN_PAYTRACE, "", True),  # dated in the period, no batch for it
    }  # the line dated before the period belongs to another run


def test_a_missing_line_still_on_its_way_is_reported_but_no_exception():
    recon = match_summaries(expected(), [], RULES, PERIOD, on_the_way={"PT-SUM-413-VISA"})
    flags = {recon.txns[i.txn].txn_id: i.exception for i in recon.notable}
    assert flags == {"PT-SUM-413-VISA": False, "PT-SUM-413-AMEX": True, "PT-SUM-413-FEE": True}


def test_the_detail_csv_has_one_row_per_transaction():
    text = detail_csv(
        [
            DetailRow("413", "10", "VISA", "payment", "100.00", "USD", "PT-SUM-413-VISA"),
            DetailRow("413", "11", "VISA", "refund", "-20.00", "USD", "PT-SUM-413-VISA"),
        ]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["amount"] for r in rows] == ["100.00", "-20.00"]
    assert rows[1] == {
        "batch": "413",
        "txn_id": "11",
        "method": "VISA",
        "kind": "refund",
        "amount": "-20.00",
        "currency": "USD",
        "line_reference": summary_reference("413", "VISA"),
    }


def event(
    kind: PaymentKind,
    status: PaymentStatus = PaymentStatus.APPROVED,
    *,
    txn_id: str = "7",
    original: str = "",
    card_type: str = "",
    outcome: Outcome = Outcome.APPROVED,
) -> Payment:
    return Payment(
        gateway_txn_id=txn_id,
        kind=kind,
        status=status,
        amount=Money.of("12.50"),
        occurred_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
        outcome=outcome,
        original_txn_id=original,
        token=PaymentToken("", card_type=card_type) if card_type else None,
    )


@pytest.mark.parametrize(
    ("payment", "kept"),
    [
        (event(PaymentKind.SALE, card_type="Visa"), ("7", "VISA", PAY, False)),
        (event(PaymentKind.CAPTURE), ("7", "CARD", PAY, False)),
        (event(PaymentKind.ACH_SALE), ("7", "ACH", PAY, False)),
        (event(PaymentKind.REFUND, txn_id="8", original="7"), ("8", "CARD", REF, False)),
        (event(PaymentKind.ACH_REFUND, txn_id="8", original="7"), ("8", "ACH", REF, False)),
        (event(PaymentKind.SALE, PaymentStatus.VOIDED), ("7", "CARD", PAY, True)),
        (event(PaymentKind.REFUND, PaymentStatus.VOIDED, txn_id="8"), ("8", "CARD", REF, True)),
        (event(PaymentKind.VOID, PaymentStatus.VOIDED, txn_id="9", original="7"),
         ("7", "CARD", PAY, True)),
    ],
    ids=["sale", "capture", "ach_sale", "refund", "ach_refund", "voided_sale",
         "voided_refund", "void_of_another_txn"],
)  # fmt: skip
def test_a_money_moving_event_keeps_its_transactions_detail_row(payment, kept):
    detail = payment_detail(payment, "2026-03-01")
    assert detail is not None
    assert (detail.txn_id, detail.method, detail.operation, detail.voided) == kept
    assert (detail.amount, detail.business_day) == (Money.of("12.50"), "2026-03-01")


@pytest.mark.parametrize(
    "payment",
    [
        event(PaymentKind.AUTHORIZATION),
        event(PaymentKind.SALE, PaymentStatus.DECLINED, outcome=Outcome.HARD_DECLINE),
        event(PaymentKind.VOID, PaymentStatus.DECLINED, original="7", outcome=Outcome.ERROR),
    ],
    ids=["authorization", "declined_sale", "declined_void"],
)
def test_an_event_that_moves_no_money_keeps_nothing(payment):
    assert payment_detail(payment, "2026-03-01") is None


def test_a_refund_detail_is_signed_negative():
    detail = PaymentDetail("8", "VISA", REF, Money.of("5.00"), "2026-03-01")
    assert detail.signed == Money.of("-5.00")
