"""When to try a failed job again: capped exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``delay = random(0, min(cap, base * 2**(attempt-1)))``, never less than a Retry-After.

    Full jitter (Brooker, "Exponential Backoff and Jitter") spreads retries of many jobs that
    failed together, so a recovering ERP is not hit by synchronised waves.
    """

    base_seconds: float = 1.0
    cap_seconds: float = 600.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        jittered = self.rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)
