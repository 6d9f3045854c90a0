"""Settlement reconciliation: what each situation is classified as, and why."""

from __future__ import annotations

from decimal import Decimal

from payledger.domain.reconcile import Discrepancy, MatchRules, TxnState, reconcile
from tests.unit.domain.reconcile_builders import (
    DAY,
    FEES,
    PERIOD,
    RULES,
    line,
    posted_for,
    txn,
)

D = Discrepancy


def classify(txns, lines, rules=RULES, period=PERIOD):
    recon = reconcile(txns, lines, rules, period)
    return recon, [(item.kind, item.exception) for item in recon.items]


def test_a_settled_payment_with_its_line_is_matched():
    sale = txn("101")
    recon, found = classify([sale], [posted_for(sale)])
    assert found == [(D.MATCHED, False)]
    assert recon.exceptions == []


def test_a_refund_is_matched_with_its_debit_line():
    refund = txn("102", 2_500, refund=True)
    _, found = classify([refund], [posted_for(refund)])
    assert found == [(D.MATCHED, False)]


def test_a_settled_payment_without_a_line_is_missing_in_d365():
    recon, found = classify([txn("103")], [])
    assert found == [(D.MISSING_IN_D365, True)]
    assert "100.00 USD" in recon.items[0].note


def test_a_line_for_a_transaction_paytrace_does_not_have_is_missing_in_paytrace():
    recon, found = classify([], [line("PT-999-PAY")])
    assert found == [(D.MISSING_IN_PAYTRACE, True)]
    assert "999" in recon.items[0].note


def test_a_hand_keyed_line_nothing_explains_is_missing_in_paytrace():
    _, found = classify([], [line("cheque 42", customer="US-777")])
    assert found == [(D.MISSING_IN_PAYTRACE, True)]


def test_lines_dated_outside_the_period_are_left_to_the_runs_of_their_own_period():
    _, found = classify([], [line("PT-999-PAY", day=DAY - 1), line("cash", day=DAY + 1)])
    assert found == []


def test_a_different_amount_is_an_amount_mismatch():
    sale = txn("104", 10_000)
    recon, found = classify([sale], [posted_for(sale, amount=10_050)])
    assert found == [(D.AMOUNT_MISMATCH, True)]
    assert recon.items[0].note == "PayTrace 100.00, D365 100.50 USD"


def test_a_line_posted_net_of_the_expected_fee_is_a_fee_difference():
    sale = txn("105", 10_000, card="VISA")  # 2.9% + 0.30 = 3.20
    recon, found = classify([sale], [posted_for(sale, amount=10_000 - 320)])
    assert found == [(D.FEE_DIFFERENCE, True)]
    assert "3.20 VISA fee" in recon.items[0].note


def test_without_fees_configured_a_net_line_is_an_amount_mismatch():
    sale = txn("106", 10_000)
    _, found = classify([sale], [posted_for(sale, amount=9_680)], rules=MatchRules())
    assert found == [(D.AMOUNT_MISMATCH, True)]


def test_another_currency_is_a_currency_mismatch():
    sale = txn("107")
    _, found = classify([sale], [posted_for(sale, currency="CAD")])
    assert found == [(D.CURRENCY_MISMATCH, True)]


def test_two_lines_with_one_reference_are_a_duplicate():
    sale = txn("108")
    recon, found = classify([sale], [posted_for(sale), posted_for(sale, line_id="00042/2")])
    assert found == [(D.DUPLICATE_IN_D365, True)]
    assert len(recon.items[0].lines) == 2


def test_a_hand_keyed_copy_of_a_posted_payment_is_a_duplicate():
    sale = txn("109")
    copy = posted_for(sale, reference="keyed from the bank statement", line_id="00043/1")
    recon, found = classify([sale], [posted_for(sale), copy])
    assert sorted(found) == sorted([(D.MATCHED, False), (D.DUPLICATE_IN_D365, True)])
    duplicate = next(i for i in recon.items if i.kind is D.DUPLICATE_IN_D365)
    assert recon.lines[duplicate.line].line_id == "00043/1"


def test_a_voided_transaction_still_paid_in_d365_is_a_status_mismatch():
    void = txn("110", state=TxnState.VOIDED)
    recon, found = classify([void], [posted_for(void)])
    assert found == [(D.STATUS_MISMATCH, True)]
    assert recon.items[0].note == "voided in PayTrace, still paid in D365"


def test_a_voided_transaction_reversed_in_d365_needs_nothing():
    void = txn("111", state=TxnState.VOIDED)
    reversal = posted_for(void, reference="PT-111-REV", amount=-void.amount)
    _, found = classify([void], [posted_for(void), reversal])
    assert found == []


def test_a_settled_payment_reversed_in_d365_is_a_status_mismatch():
    sale = txn("112")
    reversal = posted_for(sale, reference="PT-112-REV", amount=-sale.amount)
    recon, found = classify([sale], [posted_for(sale), reversal])
    assert found == [(D.STATUS_MISMATCH, True)]
    assert "reversed (voided) in D365" in recon.items[0].note


def test_a_refund_posted_as_a_payment_is_a_status_mismatch():
    refund = txn("113", refund=True)
    recon, found = classify([refund], [posted_for(refund, amount=refund.amount)])
    assert found == [(D.STATUS_MISMATCH, True)]
    assert recon.items[0].note == "refunded in PayTrace, posted as a payment in D365"


def test_a_payment_posted_under_its_refund_reference_is_a_status_mismatch():
    sale = txn("114")
    _, found = classify([sale], [posted_for(sale, reference="PT-114-REF", amount=-sale.amount)])
    assert found == [(D.STATUS_MISMATCH, True)]


def test_settling_a_batch_later_than_normal_is_a_timing_difference_not_an_error_within_lag():
    sale = txn("115", settled=DAY, created=DAY - 3)
    recon, found = classify([sale], [posted_for(sale)])
    assert found == [(D.TIMING_DIFFERENCE, False)]
    assert "3 days" in recon.items[0].note


def test_a_timing_difference_beyond_the_lag_is_an_error():
    sale = txn("116", settled=DAY, created=DAY - 5)
    _, found = classify([sale], [posted_for(sale)])
    assert found == [(D.TIMING_DIFFERENCE, True)]


def test_a_batch_closing_the_next_morning_is_normal():
    sale = txn("117", settled=DAY, created=DAY - 1)
    _, found = classify([sale], [posted_for(sale)])
    assert found == [(D.MATCHED, False)]


def test_a_posted_payment_not_settled_yet_is_a_timing_difference_once_it_waits_too_long():
    pending = txn("118", state=TxnState.PENDING, created=DAY - 2)
    _, found = classify([pending], [posted_for(pending, day=DAY - 2)])
    assert found == [(D.TIMING_DIFFERENCE, False)]
    _, today = classify([pending], [posted_for(pending, day=DAY)])
    assert today == []  # posted today, settles tonight: nothing to say


def test_a_payment_settled_in_a_later_batch_explains_its_line():
    later = txn("119", settled=DAY + 4, created=DAY - 1, in_period=False)
    recon, found = classify([later], [posted_for(later)])
    assert found == [(D.TIMING_DIFFERENCE, True)]
    assert "later batch" in recon.items[0].note


def test_a_payment_of_an_earlier_batch_is_left_alone():
    earlier = txn("120", settled=DAY - 1, in_period=False)
    _, found = classify([earlier], [posted_for(earlier)])
    assert found == []


def test_a_line_keyed_by_hand_is_found_by_amount_date_and_customer():
    sale = txn("121", 4_200, customer="US-002")
    keyed = line("deposit slip 7", 4_200, day=DAY, customer="US-002")
    recon, found = classify([sale], [keyed])
    assert found == [(D.MATCHED, False)]
    assert recon.items[0].by_reference is False


def test_a_hand_keyed_line_of_another_customer_is_not_taken():
    sale = txn("122", 4_200, customer="US-002")
    keyed = line("deposit slip 8", 4_200, day=DAY, customer="US-003")
    _, found = classify([sale], [keyed])
    assert sorted(found) == [(D.MISSING_IN_D365, True), (D.MISSING_IN_PAYTRACE, True)]


def test_a_hand_keyed_line_outside_the_date_window_is_not_taken():
    sale = txn("123", 4_200)
    keyed = line("deposit slip 9", 4_200, day=DAY - 5)
    _, found = classify([sale], [keyed])
    assert found == [(D.MISSING_IN_D365, True)]


def test_a_hand_keyed_line_within_the_amount_tolerance_is_taken_and_its_difference_reported():
    sale = txn("124", 4_200)
    rules = MatchRules(amount_tolerance=Decimal("0.05"))
    _, found = classify([sale], [line("slip", 4_203)], rules=rules)
    assert found == [(D.AMOUNT_MISMATCH, True)]


def test_a_hand_keyed_line_net_of_the_fee_is_a_fee_difference():
    sale = txn("125", 10_000, card="VISA")
    _, found = classify([sale], [line("bank statement", 9_680)])
    assert found == [(D.FEE_DIFFERENCE, True)]


def test_the_closest_hand_keyed_date_wins():
    sale = txn("126", 5_000)
    far, near = line("a", 5_000, day=DAY - 2), line("b", 5_000, day=DAY)
    recon, found = classify([sale], [far, near])
    assert (D.MATCHED, False) in found
    matched = next(i for i in recon.items if i.kind is D.MATCHED)
    assert recon.lines[matched.line] == near


def test_fees_follow_the_card_type_and_round_half_to_even():
    assert FEES.fee("VISA", 10_000, "USD") == 320
    assert FEES.fee("visa", 50, "USD") == 31  # 1.45 rounds to 1, plus 30
    assert FEES.fee("AMEX", 10_000, "USD") == 0  # no rule for AMEX and no "*"
