"""The PayTrace v1 connector: one async client for every endpoint payledger uses."""

from __future__ import annotations

from payledger.adapters.paytrace.cards import PayTraceCards
from payledger.adapters.paytrace.checks import PayTraceChecks
from payledger.adapters.paytrace.profiles import PayTraceProfiles


class PayTraceClient(PayTraceCards, PayTraceChecks, PayTraceProfiles):
    """Async client for the PayTrace v1 JSON API.

    Args:
        base_url: ``https://api.paytrace.com`` or ``https://api.sandbox.paytrace.com``.
        username: API user.
        password: API password.
        integrator_id: Sent in every request body.
        timeout: Seconds per request (PayTrace's sandbox takes up to ~20 s; default 60).
        transport: httpx transport, e.g. ``httpx.ASGITransport`` for in-process tests.
        retry: :class:`RetryPolicy` (read retries and the write policy).
        paths: :class:`PayTracePaths` for endpoints the fact sheet marks UNCERTAIN.
        token_refresh_margin_s: Renew the 2-hour token this long before it expires.
        vendor_timezone: Zone of PayTrace's local times (UNCERTAIN; Pacific).
        correlation_field: A discretionary data title to put a unique reference into on
            every charge, so lost answers can be looked up even without an invoice id.
        currency: ISO currency of the merchant account.
        clock: A ``payledger.domain.clock.Clock``; the system clock by default.
        sleep: Awaitable sleep used between retries (tests pass a fast one).
        seed: Seeds the back-off jitter.

    Example:
        >>> async with PayTraceClient(url, "user", "secret", "9575315uXt4u") as paytrace:
        ...     result = await paytrace.sale_by_customer(Decimal("25.00"), "cust-0042")
    """

    async def __aenter__(self) -> PayTraceClient:
        return self
