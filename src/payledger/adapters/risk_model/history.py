"""The features' inputs for every event of a history at once, the way the store would have
gathered each event's :class:`RiskHistory` (docs/risk.md, "What the history holds").

Per-row Python is limited to reading the events' attributes; every window and running figure
is numpy: events are sorted by (group, time), each group's times are laid end to end on one
increasing int64 axis with a gap wider than any window between groups, and a window's count
or sum is the difference of two ``searchsorted`` positions in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from payledger.adapters.risk_model.features import (
    DAY_MS,
    MAX_AMOUNT,
    MAX_MS,
    PARTIAL_AVS,
    Inputs,
)
from payledger.domain.risk import RiskSubject, SubjectKind
from payledger.domain.risk_rules import RuleLimits

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

_KIND_CODES = {kind: i for i, kind in enumerate(SubjectKind)}
_SALE, _AUTH, _REFUND, _DECLINE = (
    _KIND_CODES[k]
    for k in (SubjectKind.SALE, SubjectKind.AUTHORIZATION, SubjectKind.REFUND, SubjectKind.DECLINE)
)


@dataclass(frozen=True)
class _Sorted:
    """The selected events of each group on one increasing axis, and where each group lies."""

    axis: Ints
    index: Ints
    """Which event each axis entry is."""
    first: Ints
    """By group: its first time (groups with no selected event: ``present`` is False)."""
    last: Ints
    offset: Ints
    present: Bools


def _sort(group: Ints, t: Ints, mask: Bools, gap: int) -> _Sorted:
    groups = max(int(group.max()) + 1 if len(group) else 0, 1)
    picked = np.flatnonzero(mask & (group >= 0))
    order = picked[np.lexsort((t[picked], group[picked]))]
    g, times = group[order], t[order]
    first = np.zeros(groups, np.int64)
    last = np.zeros(groups, np.int64)
    offset = np.zeros(groups, np.int64)
    present = np.zeros(groups, bool)
    if len(order) == 0:
        return _Sorted(np.zeros(0, np.int64), order, first, last, offset, present)
    heads = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    tails = np.r_[heads[1:] - 1, len(order) - 1]
    spans = times[tails] - times[heads]
    offsets = np.r_[0, np.cumsum(spans + gap + 2)[:-1]].astype(np.int64)
    axis = times - np.repeat(times[heads] - offsets, np.diff(np.r_[heads, len(order)]))
    first[g[heads]], last[g[heads]] = times[heads], times[tails]
    offset[g[heads]], present[g[heads]] = offsets, True
    return _Sorted(axis.astype(np.int64), order, first, last, offset, present)


def _bounds(s: _Sorted, group: Ints, t: Ints, window: int | None) -> tuple[Ints, Ints]:
    """For every event: the axis positions of the earlier events in its group and window."""
    safe = np.clip(group, 0, None)
    known = (group >= 0) & s.present[safe]
    first, span, offset = s.first[safe], (s.last - s.first)[safe], s.offset[safe]
    hi_q = offset + np.clip(t - first, -1, span + 1)
    lo_rel = np.full(len(t), -1, np.int64) if window is None else t - window - first
    lo_q = offset + np.clip(lo_rel, -1, span + 1)
    hi = np.searchsorted(s.axis, hi_q, side="left")
    lo = np.searchsorted(s.axis, lo_q, side="right")
    hi = np.where(known, hi, 0)
    lo = np.where(known, np.minimum(lo, hi), 0)
    return lo.astype(np.int64), hi.astype(np.int64)


def _codes(values: Sequence[str]) -> Ints:
    """Each distinct non-empty string a number; "" is -1 (no group)."""
    numbers = {value: i for i, value in enumerate(dict.fromkeys(values))}
    codes = np.array([numbers[v] for v in values], np.int64)
    return np.where(codes == numbers.get("", -1), -1, codes) if "" in numbers else codes


def inputs_over(events: Sequence[RiskSubject], limits: RuleLimits) -> Inputs:
    """The inputs of every event, each as its own history (all earlier events) gives them."""
    n = len(events)
    t = np.clip(
        np.array([e.occurred_at.timestamp() * 1000 for e in events], np.float64), 0, MAX_MS
    ).astype(np.int64)
    amount = np.clip(np.array([float(e.amount.amount) for e in events], np.float64), 0, MAX_AMOUNT)
    kind = np.array([_KIND_CODES[e.kind] for e in events], np.int64)
    customer = _codes([e.customer_id for e in events])
    charges = (kind == _SALE) | (kind == _AUTH)
    attempts = charges | (kind == _DECLINE)
    velocity = limits.velocity_window_minutes * 60_000
    gap = max(velocity, limits.duplicate_window_hours * 3_600_000) + 1

    def count(group: Ints, mask: Bools, window: int | None) -> Floats:
        s = _sort(group, t, mask, gap)
        lo, hi = _bounds(s, group, t, window)
        return (hi - lo).astype(np.float64)

    payments, mean, largest = _profile(customer, t, amount, charges, gap)
    first_seen = _first_seen(customer, t, gap)
    age = np.where(first_seen >= 0, (t - first_seen) / DAY_MS, 0.0)
    zeros = np.zeros(n, np.int64)
    avs = [e.avs_result for e in events]
    return Inputs(
        amount=amount,
        mean=mean,
        largest=largest,
        payments=payments,
        age_days=np.maximum(age, 0.0),
        refunds=count(customer, kind == _REFUND, None),
        customer_attempts=count(customer, attempts, velocity),
        card_attempts=count(_codes([e.card_token for e in events]), attempts, velocity),
        ip_attempts=count(_codes([e.ip_address for e in events]), attempts, velocity),
        zip_attempts=count(_codes([e.billing_zip for e in events]), attempts, velocity),
        declines=count(zeros, kind == _DECLINE, limits.card_testing_window_minutes * 60_000),
        avs=np.array(
            [1.0 if a in limits.avs_mismatch else 0.5 if a in PARTIAL_AVS else 0.0 for a in avs]
        ),
        csc=np.array([float(e.csc_result in limits.csc_mismatch) for e in events]),
        is_refund=(kind == _REFUND).astype(np.float64),
        is_decline=(kind == _DECLINE).astype(np.float64),
        invoice_charges=count(
            _codes([e.invoice_ref for e in events]),
            charges,
            limits.duplicate_window_hours * 3_600_000,
        ),
    )


def _at(values: Floats | Ints, positions: Ints, where: Bools, default: float) -> Floats:
    """``values[positions]`` where ``where`` holds, else ``default`` (also when empty)."""
    if len(values) == 0:
        return np.full(len(positions), default, np.float64)
    taken = values[np.clip(positions, 0, len(values) - 1)].astype(np.float64)
    return np.where(where, taken, default)


def _profile(
    customer: Ints, t: Ints, amount: Floats, charges: Bools, gap: int
) -> tuple[Floats, Floats, Floats]:
    """Earlier approved charges of each event's customer: how many, their mean, their largest."""
    s = _sort(customer, t, charges, gap)
    lo, hi = _bounds(s, customer, t, None)
    payments = (hi - lo).astype(np.float64)
    known = payments > 0
    sorted_amounts = amount[s.index]
    totals = np.r_[0.0, np.cumsum(sorted_amounts)]
    mean = np.where(known, (totals[hi] - totals[lo]) / np.maximum(payments, 1), 0.0)
    # Running maximum within each group: log amounts lifted by a per-group step above any log.
    step = customer[s.index] * 100.0
    running = np.maximum.accumulate(np.log1p(sorted_amounts) + step) - step
    largest = np.expm1(_at(running, hi - 1, known, 0.0))
    return payments, np.maximum(mean, 0.0), largest


def _first_seen(customer: Ints, t: Ints, gap: int) -> Floats:
    """When each event's customer was first seen before it (-1: never)."""
    s = _sort(customer, t, np.ones(len(t), bool), gap)
    lo, hi = _bounds(s, customer, t, None)
    return _at(t[s.index], lo, hi > lo, -1.0)
