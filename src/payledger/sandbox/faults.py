"""Fault injection shared by both sandboxes.

A :class:`FaultInjector` sits in front of every vendor endpoint (not the ``/_sandbox`` control
API) and decides, per request, whether the request is slow, throttled, failed, or answered only
after its effect was committed ("commit then drop": the ambiguous outcome clients must survive).

Latency follows a small queueing model: each request holds one of ``capacity`` slots for
``latency_ms`` (+ ``per_operation_ms`` for each operation inside it, such as the parts of an OData
``$batch``), so throughput saturates like a real server's and extra concurrency only queues.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal


@dataclass
class FaultSettings:
    """Knobs of a :class:`FaultInjector`; every field can be changed at run time."""

    latency_ms: float = 0.0
    """Fixed service time of every request."""
    jitter_ms: float = 0.0
    """Uniform random extra service time, 0..jitter_ms."""
    per_operation_ms: float = 0.0
    """Extra service time per operation inside a request (e.g. each part of a $batch)."""
    capacity: int = 0
    """Requests served at once; beyond it they queue. 0 means unlimited."""
    error_rate: float = 0.0
    """Probability that a request fails with ``error_status`` before doing anything."""
    error_status: int = 503
    rate_limit_rate: float = 0.0
    """Probability that a request is answered 429 with ``Retry-After``."""
    retry_after_s: int = 1
    rate_limit_mode: Literal["random", "token_bucket"] = "random"
    bucket_size: int = 100
    """Token-bucket mode: burst size."""
    bucket_refill_per_s: float = 50.0
    """Token-bucket mode: sustained requests per second."""
    timeout_rate: float = 0.0
    """Probability that a request hangs before doing anything (client sees a timeout)."""
    drop_after_commit_rate: float = 0.0
    """Probability that a write commits and then hangs instead of answering."""
    hang_s: float = 300.0
    """How long a hanging request waits before the server gives up on it."""
    outage: bool = False
    """While true every vendor request is answered ``outage_status``."""
    outage_windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    """Planned outages as (start, end) in UTC."""
    outage_status: int = 503
    service_answer: Literal["normal", "garbage", "wrong_shape", "missing"] = "normal"
    """Custom services (D365 ``/api/services``): ``garbage`` and ``wrong_shape`` answer 200
    with a non-JSON or unexpected JSON body after the operation ran; ``missing`` answers 404
    as if the service were not deployed (nothing runs)."""

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes``; unknown names raise ``ValueError`` naming them."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        for name, value in changes.items():
            if name == "outage_windows":
                value = [(_utc(a), _utc(b)) for a, b in value]
            setattr(self, name, _like(getattr(self, name), value))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outage_windows"] = [(a.isoformat(), b.isoformat()) for a, b in self.outage_windows]
        return data


@dataclass(frozen=True)
class Rejection:
    """An answer the injector gives instead of the real one."""

    status: int
    reason: str
    retry_after_s: int | None = None


class FaultInjector:
    """Decides and applies faults for one sandbox; deterministic for a given seed."""

    def __init__(self, settings: FaultSettings | None = None, *, seed: int = 0) -> None:
        self.settings = settings or FaultSettings()
        self.counts: dict[str, int] = {}
        self._rng = random.Random(seed)
        self._slots: asyncio.Semaphore | None = None
        self._slots_size = 0
        self._tokens = float(self.settings.bucket_size)
        self._refilled_at = 0.0

    def reset(self, *, seed: int = 0) -> None:
        self.settings = FaultSettings()
        self.counts = {}
        self._rng = random.Random(seed)
        self._tokens = float(self.settings.bucket_size)

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _in_outage(self, now: datetime) -> bool:
        s = self.settings
        return s.outage or any(start <= now < end for start, end in s.outage_windows)

    def _take_token(self) -> bool:
        s = self.settings
        now = asyncio.get_running_loop().time()
        elapsed = now - self._refilled_at if self._refilled_at else 0.0
        self._refilled_at = now
        self._tokens = min(float(s.bucket_size), self._tokens + elapsed * s.bucket_refill_per_s)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def admit(self, now: datetime | None = None) -> Rejection | None:
        """Called before a vendor request is handled: a rejection, a hang, or None to proceed."""
        s = self.settings
        self._count("requests")
        if self._in_outage(now or datetime.now(UTC)):
            self._count("outage")
            return Rejection(s.outage_status, "Service unavailable (sandbox outage)")
        throttled = (
            not self._take_token()
            if s.rate_limit_mode == "token_bucket"
            else self._rng.random() < s.rate_limit_rate
        )
        if throttled:
            self._count("rate_limited")
            return Rejection(429, "Too many requests", retry_after_s=s.retry_after_s)
        if self._rng.random() < s.error_rate:
            self._count("errors")
            return Rejection(s.error_status, "Internal server error (sandbox fault)")
        if self._rng.random() < s.timeout_rate:
            self._count("timeouts")
            await asyncio.sleep(s.hang_s)
            return Rejection(504, "Gateway timeout (sandbox fault)")
        return None

    @asynccontextmanager
    async def serving(self, operations: int = 1) -> AsyncIterator[None]:
        """Hold a capacity slot for the modelled service time of a request of ``operations``."""
        s = self.settings
        service_ms = s.latency_ms + s.per_operation_ms * max(operations, 0)
        if s.jitter_ms:
            service_ms += self._rng.uniform(0, s.jitter_ms)
        if s.capacity <= 0:
            if service_ms:
                await asyncio.sleep(service_ms / 1000)
            yield
            return
        if self._slots is None or self._slots_size != s.capacity:
            self._slots, self._slots_size = asyncio.Semaphore(s.capacity), s.capacity
        async with self._slots:
            await asyncio.sleep(service_ms / 1000)
            yield

    def should_drop_after_commit(self) -> bool:
        """True when a write that has just committed must not be answered."""
        if self._rng.random() < self.settings.drop_after_commit_rate:
            self._count("dropped_after_commit")
            return True
        return False

    async def hang(self) -> None:
        """Hang like a server that committed and then stalled; clients time out first."""
        await asyncio.sleep(self.settings.hang_s)


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"outage window time {value!r} must carry a timezone")
    return moment.astimezone(UTC)


def _like(current: Any, value: Any) -> Any:
    """``value`` as the type of the setting it replaces: the control APIs read JSON numbers
    exactly (as ``Decimal``), but the injector sleeps and draws with floats and ints."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    if isinstance(current, float):
        return float(value)
    if isinstance(current, int) and not isinstance(current, bool) and value == int(value):
        return int(value)
    return value
