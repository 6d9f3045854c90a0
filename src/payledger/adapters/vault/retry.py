"""Retrying a secret-store call that was throttled or failed on the server side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from payledger.domain.errors import RateLimited, TransientError

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]

MAX_WAIT_SECONDS = 30.0
"""A ``Retry-After`` longer than this is not waited out inside a call: the error goes up and
the job that needed the secret is retried later by the worker."""


def _delay(error: TransientError, attempt: int) -> float:
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after
    return float(min(0.25 * 2 ** (attempt - 1), 4.0))


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int, sleep: Sleep) -> T:
    """``call()``, again after a ``TransientError`` (honouring ``Retry-After``), ``attempts``
    times in all; the last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TransientError as error:
            delay = _delay(error, attempt)
            if attempt == attempts or delay > MAX_WAIT_SECONDS:
                raise
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def no_sleep(seconds: float) -> None:
    """For tests that check the waits asked for without waiting them."""
    await asyncio.sleep(0)
