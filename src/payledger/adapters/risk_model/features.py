"""The anomaly model's features: one transform, fed for one subject or a whole history.

A feature row is computed in two steps. First the *inputs* (:class:`Inputs`: the amount, the
customer's profile before the event, counts in the rules' windows, AVS/CSC levels) are
gathered, either for one subject from the :class:`RiskHistory` the store hands the scorer
(:func:`inputs_for`) or for every event of a history at once with numpy (:func:`inputs_over`,
for training: sorted group keys and ``searchsorted`` instead of per-row Python). Then the one
:func:`feature_matrix` turns inputs into features for both, so scoring and training cannot
drift; a test checks that both ways of gathering agree row by row. docs/risk.md ("Features")
lists each feature.

Extreme values never raise: amounts are clipped to ``[0, 1e12]``, times to 1970..2199, and
anything not finite becomes 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from payledger.domain.risk import CustomerProfile, RiskHistory, RiskSubject, SubjectKind
from payledger.domain.risk_rules import ATTEMPTS, CHARGES, RuleLimits, within

Array = npt.NDArray[np.float64]

FEATURES: tuple[str, ...] = (
    "log_amount",
    "amount_vs_mean",
    "amount_vs_largest",
    "customer_payments",
    "customer_age_days",
    "customer_refunds",
    "customer_attempts",
    "card_attempts",
    "ip_attempts",
    "zip_attempts",
    "recent_declines",
    "avs_mismatch",
    "csc_mismatch",
    "is_refund",
    "is_decline",
    "invoice_charges",
)
PARTIAL_AVS = frozenset({"Address Match Only", "Zip Match Only"})
"""PayTrace AVS texts where half the address matched."""
MAX_AMOUNT = 1e12
MAX_MS = 7_258_118_400_000
"""2200-01-01 in ms: later times are clipped (the vectorised keys stay in int64)."""
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Inputs:
    """What the features are made of, one array entry per event."""

    amount: Array
    mean: Array
    largest: Array
    payments: Array
    age_days: Array
    refunds: Array
    customer_attempts: Array
    card_attempts: Array
    ip_attempts: Array
    zip_attempts: Array
    declines: Array
    avs: Array
    csc: Array
    is_refund: Array
    is_decline: Array
    invoice_charges: Array


def feature_matrix(x: Inputs) -> Array:
    """Features (columns in :data:`FEATURES` order) of these inputs: the one transform."""
    known = x.payments > 0
    log_amount = np.log1p(x.amount)
    columns = [
        log_amount,
        np.where(known, log_amount - np.log1p(x.mean), 0.0),
        np.where(known, log_amount - np.log1p(x.largest), 0.0),
        np.log1p(x.payments),
        np.log1p(x.age_days),
        np.log1p(x.refunds),
        np.log1p(x.customer_attempts),
        np.log1p(x.card_attempts),
        np.log1p(x.ip_attempts),
        np.log1p(x.zip_attempts),
        np.log1p(x.declines),
        x.avs,
        x.csc,
        x.is_refund,
        x.is_decline,
        np.log1p(x.invoice_charges),
    ]
    matrix = np.column_stack(columns).astype(np.float64)
    return np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)


def _amount(value: object) -> float:
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return min(max(amount, 0.0), MAX_AMOUNT) if amount == amount else 0.0


def _ms(subject: RiskSubject) -> int:
    try:
        ms = int(subject.occurred_at.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        return 0
    return min(max(ms, 0), MAX_MS)


def _mean(profile: CustomerProfile) -> float:
    """The exact mean (total / payments: ``mean`` is rounded to the cent), else ``mean``."""
    if profile.total is not None and profile.payments > 0:
        return _amount(profile.total.amount / profile.payments)
    return _amount(profile.mean.amount) if profile.mean else 0.0


def avs_level(text: str, limits: RuleLimits) -> float:
    """1 for a mismatch, 0.5 for half a match, else 0."""
    return 1.0 if text in limits.avs_mismatch else 0.5 if text in PARTIAL_AVS else 0.0


def inputs_for(subject: RiskSubject, history: RiskHistory, limits: RuleLimits) -> Inputs:
    """The inputs of one subject, from the history the store gathered for it."""
    velocity = timedelta(minutes=limits.velocity_window_minutes)
    profile = history.customer
    first = profile.first_seen
    age = (_ms(subject) - min(max(int(first.timestamp() * 1000), 0), MAX_MS)) if first else 0

    def attempts(events: Sequence[RiskSubject], key: str) -> int:
        if not key:
            return 0
        return sum(e.kind in ATTEMPTS for e in within(events, subject, velocity))

    testing = timedelta(minutes=limits.card_testing_window_minutes)
    duplicate = timedelta(hours=limits.duplicate_window_hours)
    values = {
        "amount": _amount(subject.amount.amount),
        "mean": _mean(profile),
        "largest": _amount(profile.largest.amount) if profile.largest else 0.0,
        "payments": profile.payments,
        "age_days": max(age, 0) / DAY_MS,
        "refunds": profile.refunds,
        "customer_attempts": attempts(history.by_customer, subject.customer_id),
        "card_attempts": attempts(history.by_card, subject.card_token),
        "ip_attempts": attempts(history.by_ip, subject.ip_address),
        "zip_attempts": attempts(history.by_zip, subject.billing_zip),
        "declines": sum(
            e.kind is SubjectKind.DECLINE for e in within(history.declines, subject, testing)
        ),
        "avs": avs_level(subject.avs_result, limits),
        "csc": float(subject.csc_result in limits.csc_mismatch),
        "is_refund": float(subject.kind is SubjectKind.REFUND),
        "is_decline": float(subject.kind is SubjectKind.DECLINE),
        "invoice_charges": 0
        if not subject.invoice_ref
        else sum(e.kind in CHARGES for e in within(history.same_invoice, subject, duplicate)),
    }
    return Inputs(**{f.name: np.array([values[f.name]], dtype=np.float64) for f in fields(Inputs)})
