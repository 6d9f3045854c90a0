"""The PayTrace sandbox in-process, and the connector pointed at it through ASGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from payledger.adapters.paytrace import (
    PayTraceClient,
    PayTraceEncryptedCard,
    PayTraceSaleDetails,
    RetryPolicy,
)
from payledger.sandbox.paytrace import (
    PayTraceSandbox,
    PayTraceSandboxSettings,
    SandboxClock,
    create_app,
    encrypt_field,
)

START = datetime(2026, 3, 24, 17, 15, 2, tzinfo=UTC)
"""10:15:02 AM Pacific (daylight time) on the sandbox clock."""
INTEGRATOR_ID = "9575315uXt4u"
VISA = "4012000098765439"
MASTERCARD = "5499740000000057"
AMEX = "371449635392376"
ROUTING = "325070760"


class DeadlineTransport(httpx.AsyncBaseTransport):
    """Gives up after ``seconds`` like a client read timeout (the sandbox hangs far longer)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seconds: float = 0.2) -> None:
        self.inner = inner
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await asyncio.wait_for(self.inner.handle_async_request(request), self.seconds)
        except TimeoutError:
            raise httpx.ReadTimeout("sandbox did not answer in time", request=request) from None


class LosingTransport(httpx.AsyncBaseTransport):
    """A network that loses every request to the ``lose`` paths (the client sees a timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: set[str], lost: list[str]) -> None:
        self.inner = inner
        self.lose = lose
        self.lost = lost

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.lose:
            self.lost.append(request.url.path)
            raise httpx.ReadTimeout("request lost on the way", request=request)
        return await self.inner.handle_async_request(request)


class Sleeps(list[float]):
    """Stands in for ``asyncio.sleep``: records each delay and moves the sandbox clock by it."""

    def __init__(self, clock: SandboxClock) -> None:
        super().__init__()
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def settings() -> PayTraceSandboxSettings:
    return PayTraceSandboxSettings(clock_start=START, seed=7)


@pytest.fixture
def app(settings: PayTraceSandboxSettings):
    return create_app(settings)


@pytest.fixture
def sandbox(app) -> PayTraceSandbox:
    return app.state.sandbox


@pytest.fixture
def sleeps(sandbox: PayTraceSandbox) -> Sleeps:
    return Sleeps(sandbox.clock)


@pytest.fixture
def lost_requests() -> list[str]:
    """Paths of the requests a ``make_client(lose=...)`` network lost, in order."""
    return []


@pytest.fixture
def make_client(
    app, sandbox: PayTraceSandbox, sleeps: Sleeps, lost_requests: list[str]
) -> Callable[..., PayTraceClient]:
    def build(**options: Any) -> PayTraceClient:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
        if deadline := options.pop("deadline", None):
            transport = DeadlineTransport(transport, deadline)
        if lose := options.pop("lose", None):
            transport = LosingTransport(transport, lose, lost_requests)
        options.setdefault("retry", RetryPolicy(lookup_delay_s=0))
        return PayTraceClient(
            "http://paytrace.test",
            options.pop("username", "demo123"),
            options.pop("password", "demo123"),
            INTEGRATOR_ID,
            transport=transport,
            clock=sandbox.clock,
            sleep=sleeps,
            seed=1,
            **options,
        )

    return build


@pytest.fixture
async def client(make_client) -> AsyncIterator[PayTraceClient]:
    async with make_client() as paytrace:
        yield paytrace


@pytest.fixture
async def raw(app) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the sandbox, for the wire-level examples."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://paytrace.test") as http:
        yield http


@pytest.fixture
async def bearer(raw: httpx.AsyncClient) -> dict[str, str]:
    reply = await raw.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "demo123", "password": "demo123"},
    )
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


class Wire:
    """Plain JSON calls with a valid token, the way the fact sheet's examples are written."""

    INTEGRATOR = {"integrator_id": INTEGRATOR_ID}
    KEYED = {
        **INTEGRATOR,
        "amount": "1.00",
        "credit_card": {"number": VISA, "expiration_month": "12", "expiration_year": "2026"},
        "billing_address": {
            "name": "Steve Smith",
            "street_address": "8320 E. West St.",
            "city": "Spokane",
            "state": "WA",
            "zip": "85284",
        },
    }
    FAILED = {
        "success": False,
        "response_code": 1,
        "status_message": "One or more errors has occurred.",
    }

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    async def post(
        self, path: str, body: dict[str, Any] | None = None, **extra: Any
    ) -> httpx.Response:
        payload = {**self.INTEGRATOR, **(body or {}), **extra}
        return await self.http.post(path, json=payload, headers=self.headers)

    async def ok(self, path: str, body: dict[str, Any] | None = None, **extra: Any) -> dict:
        reply = await self.post(path, body, **extra)
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def refused(self, path: str, body: dict[str, Any] | None = None, **extra: Any) -> dict:
        reply = await self.post(path, body, **extra)
        assert reply.status_code == 400, reply.text
        return reply.json()


@pytest.fixture
def wire(raw: httpx.AsyncClient, bearer: dict[str, str]) -> Wire:
    return Wire(raw, bearer)


def encrypted(number: str = VISA, month: int = 12, year: int = 2027) -> PayTraceEncryptedCard:
    return PayTraceEncryptedCard(
        encrypted_number=encrypt_field(number), expiration_month=month, expiration_year=year
    )


@pytest.fixture
def card() -> Callable[..., PayTraceEncryptedCard]:
    """``card()`` → an encrypted test Visa; ``card(number, month, year)`` for others."""
    return encrypted


@pytest.fixture
def details() -> Callable[..., PayTraceSaleDetails]:
    """Sale details with a unique invoice id (the lookup key of lost answers)."""
    counter = iter(range(1, 10_000))

    def build(**fields: Any) -> PayTraceSaleDetails:
        fields.setdefault("invoice_id", f"INV-{next(counter):04d}")
        return PayTraceSaleDetails(**fields)

    return build
