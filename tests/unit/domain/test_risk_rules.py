"""Each screening rule fires at its limit and not below it; reasons combine by noisy-or."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payledger.domain.money import Money
from payledger.domain.risk import (
    Action,
    CustomerProfile,
    Reason,
    RiskHistory,
    RiskSubject,
    SubjectKind,
    Thresholds,
)
from payledger.domain.risk_rules import DEFAULT_WEIGHTS, RuleLimits, combine
from payledger.domain.risk_screen import assess, evaluate

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = RuleLimits()
SALE, DECLINE, REFUND = SubjectKind.SALE, SubjectKind.DECLINE, SubjectKind.REFUND
_serial = iter(range(1, 10**9))


def event(
    amount: str = "50.00",
    kind: SubjectKind = SALE,
    minutes_ago: float = 0,
    **kw: object,
) -> RiskSubject:
    base = RiskSubject(
        transaction_id=f"T{next(_serial)}",
        kind=kind,
        amount=Money.of(amount),
        occurred_at=NOW - timedelta(minutes=minutes_ago),
        customer_id="C1",
        card_token="K1",
        billing_zip="30301",
        ip_address="203.0.113.7",
        avs_result="Full Exact Match",
        csc_result="Match",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def codes(subject: RiskSubject, history: RiskHistory | None = None, **limits: object) -> set[str]:
    chosen = replace(LIMITS, **limits) if limits else LIMITS  # type: ignore[arg-type]
    return {r.code for r in evaluate(subject, history or RiskHistory(), chosen)}


def profile(payments: int = 10, mean: str = "100.00", largest: str = "150.00", refunds: int = 0):
    return CustomerProfile(
        payments=payments,
        total=Money.of(Decimal(mean) * payments),
        largest=Money.of(largest),
        mean=Money.of(mean),
        first_seen=NOW - timedelta(days=200),
        refunds=refunds,
    )


KNOWN = profile()


def test_an_ordinary_payment_of_a_known_customer_gives_no_reason():
    assert codes(event(), RiskHistory(customer=KNOWN)) == set()


@pytest.mark.parametrize(
    ("name", "sequence", "limit"),
    [
        ("customer", "by_customer", LIMITS.customer_count),
        ("card", "by_card", LIMITS.card_count),
        ("zip", "by_zip", LIMITS.zip_count),
        ("ip", "by_ip", LIMITS.ip_count),
    ],
)
def test_velocity_counts_attempts_in_the_window_including_this_one(name, sequence, limit):
    code = f"velocity_{name}"
    earlier = [event(minutes_ago=i + 1, kind=DECLINE if i % 2 else SALE) for i in range(limit)]
    at_limit = RiskHistory(customer=KNOWN, **{sequence: earlier[: limit - 1]})
    over = RiskHistory(customer=KNOWN, **{sequence: earlier})
    assert code not in codes(event(), at_limit)
    assert code in codes(event(), over)


def test_velocity_forgets_attempts_older_than_the_window():
    window = LIMITS.velocity_window_minutes
    old = [event(minutes_ago=window + i) for i in range(LIMITS.card_count)]
    assert "velocity_card" not in codes(event(), RiskHistory(customer=KNOWN, by_card=old))


def test_velocity_by_amount_needs_several_charges_adding_up():
    limit = LIMITS.card_amount
    one_big = event(str(limit + 1))
    assert "velocity_card" not in codes(one_big, RiskHistory(customer=KNOWN))
    half = str(limit / 2)
    earlier = RiskHistory(customer=KNOWN, by_card=[event(half, minutes_ago=5)])
    assert "velocity_card" not in codes(event(half), earlier)
    assert "velocity_card" in codes(event(str(limit / 2 + 1)), earlier)


def test_velocity_skips_a_key_the_subject_does_not_have():
    earlier = [event(minutes_ago=i + 1) for i in range(10)]
    subject = event(ip_address="")
    assert "velocity_ip" not in codes(subject, RiskHistory(customer=KNOWN, by_ip=earlier))


def small_declines(n: int, amount: str = "1.00", minutes_ago: float = 1) -> list[RiskSubject]:
    return [event(amount, DECLINE, minutes_ago + i * 0.1, card_token=f"X{i}") for i in range(n)]


def test_card_testing_fires_when_small_declines_reach_the_limit():
    limit = LIMITS.card_testing_declines
    assert "card_testing" in codes(
        event("1.00", DECLINE), RiskHistory(declines=small_declines(limit - 1))
    )
    assert "card_testing" not in codes(
        event("1.00", DECLINE), RiskHistory(declines=small_declines(limit - 2))
    )


def test_card_testing_ignores_large_attempts_and_old_or_large_declines():
    enough = small_declines(LIMITS.card_testing_declines)
    assert "card_testing" not in codes(event("5.01", DECLINE), RiskHistory(declines=enough))
    old = small_declines(10, minutes_ago=LIMITS.card_testing_window_minutes)
    assert "card_testing" not in codes(event("1.00", DECLINE), RiskHistory(declines=old))
    large = small_declines(10, amount="25.00")
    assert "card_testing" not in codes(event("1.00", DECLINE), RiskHistory(declines=large))


def test_a_small_approved_sale_amid_small_declines_is_card_testing_too():
    history = RiskHistory(declines=small_declines(LIMITS.card_testing_declines))
    assert "card_testing" in codes(event("1.00"), history)


def test_avs_and_csc_mismatches_use_paytraces_response_texts():
    assert "avs_mismatch" in codes(event(avs_result="No Match"), RiskHistory(customer=KNOWN))
    assert "csc_mismatch" in codes(event(csc_result="No Match"), RiskHistory(customer=KNOWN))
    for partial in ("Zip Match Only", "Address Match Only", "Address Unavailable", ""):
        assert codes(event(avs_result=partial), RiskHistory(customer=KNOWN)) == set()
    for harmless in ("Not Processed", "Not Present", "Issuer Does Not Support CSC", ""):
        assert codes(event(csc_result=harmless), RiskHistory(customer=KNOWN)) == set()


def test_a_mismatch_alone_only_alerts_when_address_and_code_both_fail():
    both = event(avs_result="No Match", csc_result="No Match")
    only_avs = event(avs_result="No Match")
    thresholds = Thresholds()
    history = RiskHistory(customer=KNOWN)
    assert assess(only_avs, history, LIMITS, thresholds).action is Action.ALLOW
    assert assess(both, history, LIMITS, thresholds).action is Action.ALERT


def test_mismatch_burst_counts_earlier_mismatches_on_card_customer_or_ip():
    subject = event(avs_result="No Match")
    earlier = event(minutes_ago=5, kind=DECLINE, csc_result="No Match", customer_id="C9")
    assert "mismatch_burst" in codes(subject, RiskHistory(customer=KNOWN, by_ip=[earlier]))
    assert "mismatch_burst" not in codes(
        subject, RiskHistory(customer=KNOWN, by_ip=[earlier]), mismatch_burst_count=3
    )
    too_old = replace(earlier, occurred_at=NOW - timedelta(minutes=30))
    assert "mismatch_burst" not in codes(subject, RiskHistory(customer=KNOWN, by_ip=[too_old]))
    matched = event(avs_result="Full Exact Match")
    assert "mismatch_burst" not in codes(matched, RiskHistory(customer=KNOWN, by_ip=[earlier]))


def test_the_same_event_seen_by_card_and_by_ip_counts_once():
    subject = event(avs_result="No Match")
    earlier = event(minutes_ago=5, avs_result="No Match")
    history = RiskHistory(customer=KNOWN, by_card=[earlier], by_ip=[earlier])
    assert "mismatch_burst" not in codes(subject, history, mismatch_burst_count=3)


def test_amount_outlier_needs_both_factor_times_the_mean_and_more_than_the_largest():
    mean = Decimal(KNOWN.mean.amount)  # type: ignore[union-attr]
    at_factor = str(mean * LIMITS.outlier_factor)
    assert "amount_outlier" not in codes(event(at_factor), RiskHistory(customer=KNOWN))
    above = str(mean * LIMITS.outlier_factor + Decimal("0.01"))
    assert "amount_outlier" in codes(event(above), RiskHistory(customer=KNOWN))
    big_before = profile(largest="5000.00")
    assert "amount_outlier" not in codes(event(above), RiskHistory(customer=big_before))


def test_amount_outlier_does_not_judge_a_customer_with_too_little_history():
    few = profile(payments=LIMITS.outlier_min_payments - 1)
    assert "amount_outlier" not in codes(event("9000.00"), RiskHistory(customer=few))


def test_a_new_customers_first_payment_above_the_limit_fires():
    limit = str(LIMITS.new_customer_amount)
    assert "new_customer_large" not in codes(event(limit))
    assert "new_customer_large" in codes(event(str(LIMITS.new_customer_amount + 1)))
    returning = RiskHistory(customer=profile(payments=1, largest="5000.00", mean="5000.00"))
    assert "new_customer_large" not in codes(event("9000.00"), returning)


def test_duplicate_charge_of_the_same_invoice_and_amount_within_the_window():
    first = event("80.00", minutes_ago=60, invoice_ref="INV-7")
    again = event("80.00", invoice_ref="INV-7")
    assert "duplicate_charge" in codes(again, RiskHistory(customer=KNOWN, same_invoice=[first]))
    instalment = event("20.00", invoice_ref="INV-7")
    assert "duplicate_charge" not in codes(
        instalment, RiskHistory(customer=KNOWN, same_invoice=[first])
    )
    long_ago = replace(first, occurred_at=NOW - timedelta(hours=LIMITS.duplicate_window_hours))
    assert "duplicate_charge" not in codes(
        again, RiskHistory(customer=KNOWN, same_invoice=[long_ago])
    )


def refund(amount: str = "80.00", **kw: object) -> RiskSubject:
    values: dict[str, object] = {
        "original_transaction_id": "T-sale",
        "original_card_token": "K1",
        "original_amount": Money.of("80.00"),
        "original_occurred_at": NOW - timedelta(days=10),
    }
    return event(amount, REFUND, **(values | kw))


def test_a_refund_larger_than_its_sale_fires():
    assert "refund_larger" not in codes(refund("80.00"), RiskHistory(customer=KNOWN))
    assert "refund_larger" in codes(refund("80.01"), RiskHistory(customer=KNOWN))


def test_without_its_sale_a_refund_is_held_against_the_customers_largest_payment():
    unknown_sale = refund("150.01", original_amount=None)
    assert "refund_larger" in codes(unknown_sale, RiskHistory(customer=KNOWN))
    assert "refund_larger" not in codes(
        refund("150.00", original_amount=None), RiskHistory(customer=KNOWN)
    )
    assert "refund_larger" in codes(refund("5.00", original_amount=None))


def test_a_refund_later_than_the_limit_fires():
    days = LIMITS.refund_late_days
    on_time = refund(original_occurred_at=NOW - timedelta(days=days))
    late = refund(original_occurred_at=NOW - timedelta(days=days, seconds=1))
    assert "refund_late" not in codes(on_time, RiskHistory(customer=KNOWN))
    assert "refund_late" in codes(late, RiskHistory(customer=KNOWN))


def test_a_refund_to_another_card_than_the_sale_fires():
    assert "refund_other_card" in codes(refund(card_token="K2"), RiskHistory(customer=KNOWN))
    assert "refund_other_card" not in codes(refund(), RiskHistory(customer=KNOWN))
    assert "refund_other_card" not in codes(
        refund(original_card_token=""), RiskHistory(customer=KNOWN)
    )


def test_frequent_refunds_fire_by_count_and_share_of_payments():
    many = RiskHistory(customer=profile(payments=6, refunds=3))
    assert "refund_frequent" in codes(refund(), many)
    assert "refund_frequent" not in codes(refund(), RiskHistory(customer=profile(6, refunds=2)))
    returner = RiskHistory(customer=profile(payments=7, refunds=3))
    assert "refund_frequent" not in codes(refund(), returner)


def test_a_weight_of_zero_turns_a_rule_off():
    history = RiskHistory(customer=KNOWN)
    assert codes(event(avs_result="No Match"), history, weights={"avs_mismatch": 0.0}) == set()


def test_noisy_or_keeps_one_reasons_weight_and_grows_with_more_below_one():
    assert combine([]) == 0
    assert combine([0.6]) == pytest.approx(0.6)
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert combine([0.9] * 50) < 1.0 + 1e-12
    assert combine([0.3, float("nan"), 1.7, -1]) == pytest.approx(1.0)


def test_assess_orders_reasons_strongest_first_and_decides_by_thresholds():
    subject = event(avs_result="No Match", csc_result="No Match")
    model = Reason("model_outlier", "unusual", 0.6)
    result = assess(subject, RiskHistory(customer=KNOWN), LIMITS, Thresholds(), [model], "v1")
    weights = [r.weight for r in result.reasons]
    assert weights == sorted(weights, reverse=True)
    assert result.score == pytest.approx(1 - 0.4 * 0.55 * 0.7)
    assert result.action is Action.REVIEW
    assert result.model_version == "v1"


def test_every_rule_has_a_default_weight_and_the_lookback_covers_every_window():
    assert set(DEFAULT_WEIGHTS) >= {"velocity_customer", "card_testing", "duplicate_charge"}
    assert LIMITS.lookback >= timedelta(minutes=LIMITS.mismatch_burst_window_minutes)
    assert LIMITS.lookback >= timedelta(minutes=LIMITS.velocity_window_minutes)
