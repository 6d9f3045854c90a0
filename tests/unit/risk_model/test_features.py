"""The model's features: the same for one subject and for a whole history, and never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payledger.adapters.risk_model.features import (
    FEATURES,
    MAX_AMOUNT,
    feature_matrix,
    inputs_for,
)
from payledger.adapters.risk_model.history import inputs_over
from payledger.bench.risk_data import generate
from payledger.bench.risk_history import histories
from payledger.domain.money import Money
from payledger.domain.risk import CustomerProfile, RiskHistory, RiskSubject, SubjectKind
from payledger.domain.risk_rules import RuleLimits

LIMITS = RuleLimits()


def test_scoring_one_subject_and_training_on_the_history_give_the_same_rows():
    data = generate(seed=5, customers=60, days=40, warmup_days=10)
    assert len(data.events) > 500
    vectorised = feature_matrix(inputs_over(data.events, LIMITS))
    one_by_one = np.vstack(
        [
            feature_matrix(inputs_for(subject, history, LIMITS))
            for subject, history in histories(data.events, LIMITS.lookback)
        ]
    )
    assert vectorised.shape == (len(data.events), len(FEATURES))
    np.testing.assert_allclose(one_by_one, vectorised, rtol=1e-9, atol=1e-9)
    varied = [FEATURES[i] for i in range(len(FEATURES)) if np.ptp(vectorised[:, i]) > 0]
    assert {"card_attempts", "recent_declines", "invoice_charges", "customer_refunds"} <= set(
        varied
    )


def test_the_training_path_does_not_depend_on_the_order_events_are_given_in():
    data = generate(seed=6, customers=30, days=30, warmup_days=5)
    forward = feature_matrix(inputs_over(data.events, LIMITS))
    backward = feature_matrix(inputs_over(data.events[::-1], LIMITS))[::-1]
    np.testing.assert_allclose(forward, backward)


BASE = datetime(2026, 1, 1, tzinfo=UTC)
amounts = st.decimals(min_value=0, max_value=Decimal("9" * 20), places=2, allow_nan=False)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
kinds = st.sampled_from(list(SubjectKind))
texts = st.sampled_from(["", "No Match", "Zip Match Only", "Match", "\x00", "é" * 300])


@st.composite
def subjects(draw: st.DrawFn) -> RiskSubject:
    return RiskSubject(
        transaction_id=draw(st.text(max_size=5)),
        kind=draw(kinds),
        amount=Money(draw(amounts), "USD"),
        occurred_at=draw(instants),
        customer_id=draw(st.sampled_from(["", "C1", "C2"])),
        card_token=draw(st.sampled_from(["", "K1"])),
        billing_zip=draw(st.sampled_from(["", "30301"])),
        ip_address=draw(st.sampled_from(["", "::1"])),
        avs_result=draw(texts),
        csc_result=draw(texts),
        invoice_ref=draw(st.sampled_from(["", "INV-1"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=subjects(), earlier=st.lists(subjects(), max_size=6), amount=amounts)
def test_extreme_values_never_crash_feature_computation(subject, earlier, amount):
    profile = CustomerProfile(
        payments=len(earlier),
        total=Money(amount, "USD"),
        largest=Money(amount, "USD"),
        mean=Money(amount, "USD"),
        first_seen=earlier[0].occurred_at if earlier else None,
    )
    history = RiskHistory(
        by_customer=earlier,
        by_card=earlier,
        declines=earlier,
        same_invoice=earlier,
        customer=profile,
    )
    one = feature_matrix(inputs_for(subject, history, LIMITS))
    many = feature_matrix(inputs_over([subject, *earlier], LIMITS))
    for matrix in (one, many):
        assert np.all(np.isfinite(matrix))
        assert matrix[:, FEATURES.index("log_amount")].max() <= np.log1p(MAX_AMOUNT)


def test_an_empty_history_and_a_zero_amount_give_plain_rows():
    subject = RiskSubject("T1", SubjectKind.SALE, Money.of("0"), BASE)
    row = feature_matrix(inputs_for(subject, RiskHistory(), LIMITS))[0]
    assert row.tolist() == [0.0] * len(FEATURES)
    assert feature_matrix(inputs_over([], LIMITS)).shape == (0, len(FEATURES))


def test_a_history_with_one_customer_far_in_the_future_still_counts_the_others():
    events = [
        RiskSubject(
            f"T{i}", SubjectKind.SALE, Money.of("10"), BASE + timedelta(minutes=i), card_token="K1"
        )
        for i in range(3)
    ]
    future = RiskSubject(
        "F", SubjectKind.SALE, Money.of("10"), datetime(9999, 1, 1, tzinfo=UTC), card_token="K2"
    )
    rows = feature_matrix(inputs_over([*events, future], LIMITS))
    card = FEATURES.index("card_attempts")
    assert np.expm1(rows[:3, card]).round().tolist() == [0, 1, 2]
