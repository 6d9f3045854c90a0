"""The benchmark's generated settlement, at a small scale: every seeded discrepancy of every
class is found, and nothing else is reported."""

from __future__ import annotations

import pytest

from payledger.bench.reconcile import bench_reconcile


@pytest.mark.parametrize(("rate", "seed"), [(0.01, 42), (0.08, 7)])
def test_every_seeded_discrepancy_is_found_and_no_false_one(rate, seed):
    result = bench_reconcile(20_000, rate=rate, seed=seed)
    assert all(result.seeded.values())  # every class was seeded
    assert result.found == result.seeded
    assert not any(result.false_positives.values())
    assert result.matched == result.expected_matched
    assert result.exceptions == result.seeded_exceptions
