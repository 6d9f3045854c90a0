"""AIMD concurrency and backoff arithmetic."""

from __future__ import annotations

import asyncio
import random

from payledger.adapters.d365 import AdaptiveConcurrency, RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_success_adds_about_one_per_round_trip_and_429_halves():
    limiter = AdaptiveConcurrency(4, maximum=8, clock=FakeClock())

    for _ in range(4):
        limiter.on_success()
    grown = limiter.limit
    limiter.on_throttled(None)

    assert 4.9 < grown < 5.0
    assert limiter.limit == grown / 2
    for _ in range(100):
        limiter.on_success()
    assert limiter.limit == 8


def test_limit_never_drops_below_minimum_and_retry_after_pauses():
    clock = FakeClock()
    limiter = AdaptiveConcurrency(2, minimum=1, clock=clock)

    for _ in range(5):
        limiter.on_throttled(3)

    assert limiter.limit == 1
    assert limiter.paused_until == 103.0
    assert limiter.throttled == 5


async def test_slots_cap_concurrency():
    limiter = AdaptiveConcurrency(2)
    running = peak = 0

    async def work() -> None:
        nonlocal running, peak
        async with limiter.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(work() for _ in range(6)))

    assert peak == 2
    assert limiter.in_flight == 0


def test_backoff_is_full_jitter_under_a_growing_cap():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=5)
    rng = random.Random(1)

    delays = [policy.backoff(attempt, rng) for attempt in (1, 2, 3, 4, 5)]

    assert all(0 <= d <= cap for d, cap in zip(delays, (1, 2, 4, 5, 5), strict=True))
