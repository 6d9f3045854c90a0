"""Throttling: an AIMD concurrency limit shared per credential, and the retry policy.

F&O's service protection answers 429 with ``Retry-After`` and asks clients to ramp up
gradually (fact sheet 7). :class:`AdaptiveConcurrency` lets ``limit`` requests run at once:
each success adds ``1/limit`` (about one more request per round trip), each 429 halves it and
pauses every request until ``Retry-After`` has passed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


class AdaptiveConcurrency:
    """Additive-increase / multiplicative-decrease limit on concurrent requests.

    Args:
        initial: concurrent requests allowed at first.
        minimum: the limit never drops below this.
        maximum: the limit never grows beyond this.
        decrease_factor: multiplier applied to the limit on each 429.
    """

    def __init__(
        self,
        initial: float = 4,
        *,
        minimum: float = 1,
        maximum: float = 32,
        decrease_factor: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = float(initial)
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.decrease_factor = decrease_factor
        self.in_flight = 0
        self.paused_until = 0.0
        self.throttled = 0
        self._clock = clock
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _wait_for_pause(self) -> None:
        # The pause can be extended by a later 429 while we sleep, hence the re-check.
        while (delay := self.paused_until - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    async def acquire(self) -> None:
        """Wait for a free slot and for any ``Retry-After`` pause to end."""
        changed = self._condition()
        while True:
            await self._wait_for_pause()
            async with changed:
                if self.in_flight < max(int(self.limit), 1) and self.paused_until <= self._clock():
                    self.in_flight += 1
                    return
                if self.in_flight >= max(int(self.limit), 1):
                    await changed.wait()

    async def release(self) -> None:
        changed = self._condition()
        async with changed:
            self.in_flight -= 1
            changed.notify_all()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            await self.release()

    def on_success(self) -> None:
        self.limit = min(self.maximum, self.limit + 1.0 / self.limit)

    def on_throttled(self, retry_after: float | None) -> None:
        """Halve the limit and hold every request on this credential for ``retry_after``."""
        self.throttled += 1
        self.limit = max(self.minimum, self.limit * self.decrease_factor)
        if retry_after:
            self.paused_until = max(self.paused_until, self._clock() + retry_after)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before trying a safe-to-retry request again.

    Attributes:
        max_attempts: total attempts including the first (429s are counted apart).
        max_throttled_attempts: 429 answers tolerated for one request before giving up.
        base_delay_s: first backoff for 5xx and connection failures (doubled each attempt).
        max_delay_s: cap of one backoff.
        default_retry_after_s: wait after a 429 that carries no ``Retry-After``.
    """

    max_attempts: int = 6
    max_throttled_attempts: int = 20
    base_delay_s: float = 0.2
    max_delay_s: float = 20.0
    default_retry_after_s: float = 30.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter exponential backoff for the given 1-based attempt."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)
