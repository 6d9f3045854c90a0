"""The screening rules: each looks at one subject and its history and may give a Reason.

Every rule has a stable reason code, a weight (0..1, ``0`` turns it off) and limits from
:class:`RuleLimits` (``[risk.rules]``). :func:`combine` joins the weights of the rules that
fired, and the anomaly model's, by noisy-or: ``1 - (1 - w1)(1 - w2)...``, so that each reason
alone scores its weight, two independent reasons score more than either, and no number of
reasons passes 1. The refund rules live in :mod:`payledger.domain.risk_refunds`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from payledger.domain.risk import Reason, RiskHistory, RiskSubject, SubjectKind

CHARGES = frozenset({SubjectKind.SALE, SubjectKind.AUTHORIZATION})
"""Kinds that move money to the merchant."""
ATTEMPTS = CHARGES | {SubjectKind.DECLINE}
"""Kinds that count as an attempt to charge a card, approved or not."""

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "velocity_customer": 0.6,
    "velocity_card": 0.6,
    "velocity_zip": 0.4,
    "velocity_ip": 0.6,
    "card_testing": 0.9,
    "avs_mismatch": 0.3,
    "csc_mismatch": 0.45,
    "mismatch_burst": 0.8,
    "amount_outlier": 0.6,
    "refund_larger": 0.6,
    "refund_late": 0.5,
    "refund_other_card": 0.7,
    "refund_frequent": 0.4,
    "new_customer_large": 0.5,
    "duplicate_charge": 0.85,
}
"""Each rule's reason code and its weight unless ``[risk.rules] weights`` says otherwise."""


@dataclass(frozen=True)
class RuleLimits:
    """The rules' windows and limits; ``[risk.rules]`` documents each (same names)."""

    velocity_window_minutes: int = 60
    customer_count: int = 5
    customer_amount: Decimal = Decimal("5000")
    card_count: int = 4
    card_amount: Decimal = Decimal("5000")
    zip_count: int = 8
    zip_amount: Decimal = Decimal("10000")
    ip_count: int = 6
    ip_amount: Decimal = Decimal("10000")
    card_testing_window_minutes: int = 10
    card_testing_declines: int = 4
    card_testing_amount: Decimal = Decimal("5.00")
    avs_mismatch: Sequence[str] = ("No Match",)
    csc_mismatch: Sequence[str] = ("No Match",)
    mismatch_burst_window_minutes: int = 30
    mismatch_burst_count: int = 2
    outlier_factor: Decimal = Decimal("8")
    outlier_min_payments: int = 5
    refund_factor: Decimal = Decimal("1")
    refund_late_days: int = 60
    refund_count: int = 3
    refund_share: Decimal = Decimal("0.5")
    new_customer_amount: Decimal = Decimal("2500")
    duplicate_window_hours: int = 72
    weights: Mapping[str, float] = field(default_factory=dict)

    def weight(self, code: str) -> float:
        """The weight of ``code``: the configured one, else its default."""
        return self.weights.get(code, DEFAULT_WEIGHTS[code])

    @property
    def lookback(self) -> timedelta:
        """How far back a :class:`RiskHistory` must reach for every rule (``same_invoice``
        and the customer profile excepted: those are not windowed by the store)."""
        return timedelta(
            minutes=max(
                self.velocity_window_minutes,
                self.card_testing_window_minutes,
                self.mismatch_burst_window_minutes,
            )
        )


Rule = Callable[[RiskSubject, RiskHistory, RuleLimits], Iterable[Reason]]


def within(
    events: Iterable[RiskSubject], subject: RiskSubject, window: timedelta
) -> list[RiskSubject]:
    """The events strictly before ``subject`` and less than ``window`` before it."""
    start = subject.occurred_at - window
    return [e for e in events if start < e.occurred_at < subject.occurred_at]


def combine(weights: Iterable[float]) -> float:
    """Noisy-or of reason weights: the chance that at least one reason is right."""
    clean = (min(max(w, 0.0), 1.0) for w in weights if not math.isnan(w))
    return 1.0 - math.prod(1.0 - w for w in clean)


def reason_for(limits: RuleLimits, code: str, detail: str) -> list[Reason]:
    weight = limits.weight(code)
    return [Reason(code, detail, weight)] if weight > 0 else []


_VELOCITY = (
    ("customer", "customer_id", "by_customer"),
    ("card", "card_token", "by_card"),
    ("zip", "billing_zip", "by_zip"),
    ("ip", "ip_address", "by_ip"),
)


def velocity(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """Too many attempts, or too much charged in several charges, by one customer, card, ZIP
    or IP in the window (this attempt included)."""
    if subject.kind not in ATTEMPTS:
        return []
    window = timedelta(minutes=limits.velocity_window_minutes)
    reasons: list[Reason] = []
    for name, key, sequence in _VELOCITY:
        if not getattr(subject, key):
            continue
        earlier = within(getattr(history, sequence), subject, window)
        attempts = [e for e in earlier if e.kind in ATTEMPTS]
        count = len(attempts) + 1
        earlier_charges = [e.amount.amount for e in attempts if e.kind in CHARGES]
        charged = sum(earlier_charges, Decimal(0))
        if subject.kind in CHARGES:
            charged += subject.amount.amount
        max_count: int = getattr(limits, f"{name}_count")
        max_amount: Decimal = getattr(limits, f"{name}_amount")
        # One large payment is not velocity: the amount limit needs an earlier charge too.
        if count > max_count or (earlier_charges and charged > max_amount):
            detail = (
                f"{count} attempts, {charged} charged by this {name} in "
                f"{limits.velocity_window_minutes} min (limits {max_count}, {max_amount})"
            )
            reasons += reason_for(limits, f"velocity_{name}", detail)
    return reasons


def card_testing(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """A small attempt while small declines pile up merchant-wide (cards being tried out)."""
    small = limits.card_testing_amount
    if subject.kind not in ATTEMPTS or subject.amount.amount > small:
        return []
    window = timedelta(minutes=limits.card_testing_window_minutes)
    declines = [
        e
        for e in within(history.declines, subject, window)
        if e.kind is SubjectKind.DECLINE and e.amount.amount <= small
    ]
    count = len(declines) + (subject.kind is SubjectKind.DECLINE)
    if count < limits.card_testing_declines:
        return []
    detail = (
        f"{count} declines of at most {small} in {limits.card_testing_window_minutes} min "
        f"(limit {limits.card_testing_declines})"
    )
    return reason_for(limits, "card_testing", detail)


def _mismatched(event: RiskSubject, limits: RuleLimits) -> bool:
    return event.avs_result in limits.avs_mismatch or event.csc_result in limits.csc_mismatch


def avs_csc(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """The address or card code did not match; several such attempts in a short time on one
    card, customer or IP are a burst (someone guessing)."""
    reasons: list[Reason] = []
    if subject.kind in CHARGES and subject.avs_result in limits.avs_mismatch:
        reasons += reason_for(limits, "avs_mismatch", f"AVS: {subject.avs_result}")
    if subject.kind in CHARGES and subject.csc_result in limits.csc_mismatch:
        reasons += reason_for(limits, "csc_mismatch", f"CSC: {subject.csc_result}")
    if subject.kind not in ATTEMPTS or not _mismatched(subject, limits):
        return reasons
    window = timedelta(minutes=limits.mismatch_burst_window_minutes)
    seen: dict[str, RiskSubject] = {}
    for sequence in (history.by_card, history.by_customer, history.by_ip):
        for e in within(sequence, subject, window):
            if e.kind in ATTEMPTS and _mismatched(e, limits):
                seen[e.transaction_id] = e
    count = len(seen) + 1
    if count >= limits.mismatch_burst_count:
        detail = (
            f"{count} AVS/CSC mismatches on this card, customer or IP in "
            f"{limits.mismatch_burst_window_minutes} min (limit {limits.mismatch_burst_count})"
        )
        reasons += reason_for(limits, "mismatch_burst", detail)
    return reasons


def amount_outlier(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> list[Reason]:
    """A charge far above what this customer usually pays: above ``outlier_factor`` times
    their mean and above their largest."""
    profile = history.customer
    if (
        subject.kind not in CHARGES
        or profile.payments < limits.outlier_min_payments
        or profile.mean is None
        or profile.largest is None
    ):
        return []
    amount = subject.amount.amount
    ceiling = profile.mean.amount * limits.outlier_factor
    if amount <= ceiling or amount <= profile.largest.amount:
        return []
    detail = (
        f"{amount} against a mean of {profile.mean.amount} and a largest of "
        f"{profile.largest.amount} over {profile.payments} payments"
    )
    return reason_for(limits, "amount_outlier", detail)


def new_customer_large(
    subject: RiskSubject, history: RiskHistory, limits: RuleLimits
) -> list[Reason]:
    """A customer's first payment above ``new_customer_amount``."""
    if subject.kind not in CHARGES or history.customer.payments > 0:
        return []
    if subject.amount.amount <= limits.new_customer_amount:
        return []
    detail = f"first payment of {subject.amount.amount} (limit {limits.new_customer_amount})"
    return reason_for(limits, "new_customer_large", detail)


def duplicate_charge(
    subject: RiskSubject, history: RiskHistory, limits: RuleLimits
) -> list[Reason]:
    """The invoice was already charged the same amount within ``duplicate_window_hours``."""
    if subject.kind not in CHARGES or not subject.invoice_ref:
        return []
    window = timedelta(hours=limits.duplicate_window_hours)
    twins = [
        e
        for e in within(history.same_invoice, subject, window)
        if e.kind in CHARGES and e.amount == subject.amount
    ]
    if not twins:
        return []
    detail = (
        f"invoice {subject.invoice_ref} already charged {subject.amount.amount} by "
        f"{twins[0].transaction_id}"
    )
    return reason_for(limits, "duplicate_charge", detail)
