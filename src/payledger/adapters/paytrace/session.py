"""The PayTrace v1 request pipeline: token cache, read retries and the write policy.

Write policy (money never moves twice because of a retry):

1. A write is sent once. A definite answer (any JSON body with ``success``) decides it.
2. If PayTrace surely did not process it (429, connection refused, connect/pool timeout,
   ``invalid_token``) it is sent again, honouring ``Retry-After``, up to
   ``RetryPolicy.write_resend_attempts`` times.
3. If the answer was lost after sending (read timeout, broken connection, 5xx, garbled
   reply) the outcome is unknown: the client looks the write up (export by date range with
   ``including_text`` on the invoice id or correlation value it sent, or the transaction by
   id). Found → that result is returned, marked ``recovered``.
4. Not found → the write is sent once more if ``RetryPolicy.resend_after_negative_lookup``
   (the default); if that answer is lost too and a second lookup also finds nothing,
   :class:`~payledger.domain.AmbiguousOutcome` is raised. With the option off, it is
   raised at once. A write that cannot be looked up (no invoice id or correlation field,
   checks, settlement) raises ``AmbiguousOutcome`` straight away.

Reads are retried up to ``read_attempts`` times with full-jitter exponential back-off,
sleeping ``Retry-After`` on 429.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

from payledger.adapters.paytrace.errors import (
    SYSTEM,
    PayTraceAuthError,
    error_for_status,
    map_errors,
    rejected_from_body,
)
from payledger.adapters.paytrace.outcomes import DECLINE_CODES
from payledger.adapters.paytrace.schemas import PayTraceEnvelope, PayTraceToken
from payledger.domain import AmbiguousOutcome, RateLimited, RejectedError, TransientError
from payledger.domain.clock import Clock, SystemClock
from payledger.tracing.http import traced_transport

Model = TypeVar("Model", bound=PayTraceEnvelope)
Lookup = Callable[[], Awaitable[Any]]
"""Finds out whether a write whose answer was lost took effect: its result, or ``None``."""


@dataclass(frozen=True)
class PayTracePaths:
    """Endpoint paths and keys the fact sheet marks UNCERTAIN; override when PayTrace differs."""

    adjust: str = "/v1/transactions/adjust"
    customer_export: str = "/v1/customer/export"
    recurrence_update: str = "/v1/recurrence/update"
    recurrence_export: str = "/v1/recurrence/export_scheduled"
    recurrence_export_approved: str = "/v1/recurrence/export_approved"
    protect_authorization: str = "/v1/transactions/authorization/pt_protect"
    protect_customer_update: str = "/v1/customer/update/pt_protect"
    """A vault customer's card replaced with a Protect ``hpf_token`` + ``enc_key`` (§4.15 lists
    no such v1 path: named like ``sale/pt_protect``; v3 has ``customer/create/pt-protect``)."""
    check_refund_by_account: str = "/v1/checks/refund/by_account"
    check_export: str = "/v1/transactions/export/by_date_range"
    """Where check (ACH) records are exported by date range (fact sheet §4.14: no check export
    is documented). The default assumes they come with the card transactions, told apart by
    ``check_transaction_id``; another path is asked separately; ``""`` means checks are not
    exported (ACH payments are then not observed)."""
    recurring_through: str = "Recurring"
    """The export's ``created.through`` of charges PayTrace's own recurring schedules make
    (fact sheet §4.17: UNCERTAIN); ``""`` recognises none."""
    batch_number_key: str = "batch_number"
    """Key of the batch number in ``/v1/batches/transaction_list`` requests."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries; see the module docstring for the write policy."""

    read_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_retry_after_s: float = 120.0
    write_resend_attempts: int = 2
    """Resends of a write PayTrace surely did not process (429, connection refused)."""
    resend_after_negative_lookup: bool = True
    lookup_delay_s: float = 2.0
    """Pause before looking a lost write up, so the vendor's export can catch up."""
    lookup_skew_s: float = 300.0
    """Records created this long before the write was sent still count as its result."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform between 0 and the capped exponential step."""
        return rng.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1)))


class TokenCache:
    """One bearer token shared by all calls, refreshed ``margin_s`` before it expires."""

    def __init__(
        self, fetch: Callable[[], Awaitable[PayTraceToken]], clock: Clock, margin_s: float
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin_s = margin_s
        self._value: str | None = None
        self._refresh_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        async with self._lock:
            if self._value is None or self._expiring():
                token = await self._fetch()
                self.fetches += 1
                margin = min(self._margin_s, token.expires_in / 2)
                self._value = token.access_token
                self._refresh_at = _plus(self._clock.now(), token.expires_in - margin)
            return self._value

    def _expiring(self) -> bool:
        return self._refresh_at is None or self._clock.now() >= self._refresh_at

    def invalidate(self, value: str) -> None:
        if self._value == value:
            self._value = None


def _plus(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


class PayTraceSession:
    """HTTP plumbing shared by every PayTrace endpoint group."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        integrator_id: str,
        *,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        paths: PayTracePaths | None = None,
        token_refresh_margin_s: float = 300.0,
        vendor_timezone: str = "America/Los_Angeles",
        correlation_field: str | None = None,
        currency: str = "USD",
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        seed: int | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=traced_transport(transport, system="paytrace"),
            headers={"Accept": "application/json"},
        )
        self._username = username
        self._password = password
        self._integrator_id = integrator_id
        self.retry = retry or RetryPolicy()
        self.paths = paths or PayTracePaths()
        self.tz = ZoneInfo(vendor_timezone)
        self.correlation_field = correlation_field
        self.currency = currency
        self.clock: Clock = clock or SystemClock()
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._rng = random.Random(seed)
        self.tokens = TokenCache(self._fetch_token, self.clock, token_refresh_margin_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> PayTraceSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---- one request ---------------------------------------------------------------------

    async def _post(
        self, operation: str, path: str, *, writes: bool, **request: Any
    ) -> tuple[int, dict[str, Any]]:
        with map_errors(operation, writes=writes):
            response = await self._http.post(path, **request)
        failure = error_for_status(response, operation, writes=writes)
        if failure is not None:
            raise failure
        try:
            data = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return response.status_code, data
        if response.is_client_error:
            raise RejectedError(
                f"PayTrace answered {response.status_code} to {operation}",
                system=SYSTEM,
                operation=operation,
                status=response.status_code,
            )
        lost = AmbiguousOutcome if writes else TransientError
        raise lost(
            f"PayTrace answered {response.status_code} to {operation} without a JSON object",
            system=SYSTEM,
            operation=operation,
            status=response.status_code,
        )

    async def _call(
        self,
        operation: str,
        path: str,
        payload: dict[str, Any],
        model: type[Model],
        *,
        writes: bool,
        public: bool = False,
    ) -> Model:
        """One authenticated call; a single re-login and resend on ``invalid_token``."""
        body = payload if public else {"integrator_id": self._integrator_id, **payload}
        for attempt in (1, 2):
            token = "" if public else await self.tokens.get()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            status, data = await self._post(
                operation, path, writes=writes, json=body, headers=headers
            )
            if data.get("error") == "invalid_token" and attempt == 1:
                self.tokens.invalidate(token)
                continue
            return self._interpret(operation, status, data, model, writes=writes)
        raise AssertionError("unreachable")

    def _interpret(
        self, operation: str, status: int, data: dict[str, Any], model: type[Model], *, writes: bool
    ) -> Model:
        """Decide by ``success`` and ``response_code``, never by message text."""
        if "error" in data and "success" not in data:
            raise PayTraceAuthError(
                f"PayTrace refused {operation}: {data.get('error')}",
                error=str(data.get("error")),
                operation=operation,
                status=status,
            )
        declined = (
            data.get("success") is False
            and not data.get("errors")
            and model.can_decline
            and _int(data.get("response_code")) in DECLINE_CODES
        )
        if data.get("success") is True or declined:
            with map_errors(operation, writes=writes):
                return model.model_validate(data)
        raise rejected_from_body(data, operation, status)

    # ---- retries -------------------------------------------------------------------------

    def _delay(self, exc: TransientError, attempt: int) -> float:
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_retry_after_s)
        return self.retry.backoff(attempt, self._rng)

    async def _with_backoff(self, send: Callable[[], Awaitable[Any]], attempts: int) -> Any:
        for attempt in range(1, attempts + 1):
            try:
                return await send()
            except TransientError as exc:
                if attempt >= attempts:
                    raise
                await self._sleep(self._delay(exc, attempt))
        raise AssertionError("unreachable")

    async def _read(
        self,
        operation: str,
        path: str,
        payload: dict[str, Any],
        model: type[Model],
        *,
        public: bool = False,
    ) -> Model:
        """A call without side effects: retried with back-off."""
        send = lambda: self._call(operation, path, payload, model, writes=False, public=public)  # noqa: E731
        return await self._with_backoff(send, self.retry.read_attempts)  # type: ignore[no-any-return]

    async def _write(
        self,
        operation: str,
        path: str,
        payload: dict[str, Any],
        model: type[Model],
        lookup: Lookup | None = None,
    ) -> Model:
        """A call with side effects, under the write policy of this module."""
        send = lambda: self._call(operation, path, payload, model, writes=True)  # noqa: E731
        for round_ in (1, 2):
            try:
                return await self._with_backoff(send, self.retry.write_resend_attempts + 1)  # type: ignore[no-any-return]
            except AmbiguousOutcome as lost:
                found = await self._look_up(operation, lookup, lost)
                if found is not None:
                    return found  # type: ignore[no-any-return]
                if round_ == 2 or not self.retry.resend_after_negative_lookup:
                    raise AmbiguousOutcome(
                        f"{operation}: answer lost and not found by lookup; not sent again",
                        system=SYSTEM,
                        operation=operation,
                    ) from lost
        raise AssertionError("unreachable")

    async def _look_up(self, operation: str, lookup: Lookup | None, lost: AmbiguousOutcome) -> Any:
        if lookup is None:
            raise AmbiguousOutcome(
                f"{operation}: answer lost and it cannot be looked up",
                system=SYSTEM,
                operation=operation,
            ) from lost
        if self.retry.lookup_delay_s:
            await self._sleep(self.retry.lookup_delay_s)
        try:
            return await lookup()
        except (TransientError, RejectedError) as failed:
            raise AmbiguousOutcome(
                f"{operation}: answer lost and the lookup failed",
                system=SYSTEM,
                operation=operation,
            ) from failed

    # ---- token ---------------------------------------------------------------------------

    async def _fetch_token(self) -> PayTraceToken:
        """Log in (password grant). Not retried here: every caller already retries."""
        form = {"grant_type": "password", "username": self._username, "password": self._password}
        status, data = await self._post("token", "/oauth/token", writes=False, data=form)
        if "error" in data or "access_token" not in data:
            raise PayTraceAuthError(
                f"PayTrace refused the API login: {data.get('error')}",
                error=str(data.get("error", "")),
                operation="token",
                status=status,
            )
        with map_errors("token", writes=False):
            token = PayTraceToken.model_validate(data)
        if token.token_type.lower() != "bearer":
            raise PayTraceAuthError(
                f"unexpected token type {token.token_type!r}", error="token_type", operation="token"
            )
        return token


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
