"""One emulated PayTrace merchant: state, clock, faults, notifier and the v1 request pipeline."""

from __future__ import annotations

import json
import random
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
from fastapi import Request, Response

from payledger.sandbox.faults import FaultInjector, Rejection
from payledger.sandbox.paytrace import auth, messages
from payledger.sandbox.paytrace.clock import SandboxClock
from payledger.sandbox.paytrace.dispatch import Call, Operation, OperationTable, Reply, render
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.notifier import Notifier, secret_from_seed
from payledger.sandbox.paytrace.requests import Body
from payledger.sandbox.paytrace.routes_cards import routes as card_routes
from payledger.sandbox.paytrace.routes_checks import routes as check_routes
from payledger.sandbox.paytrace.routes_reports import completed
from payledger.sandbox.paytrace.routes_reports import routes as report_routes
from payledger.sandbox.paytrace.routes_vault import routes as vault_routes
from payledger.sandbox.paytrace.scheduler import Scheduler
from payledger.sandbox.paytrace.settings import PayTraceSandboxSettings
from payledger.sandbox.paytrace.state import SandboxState

public_routes = OperationTable()


@public_routes.post("/v1/ping", permission="ping", writes=False, public=True)
def ping(call: Call) -> Reply:
    """Unauthenticated health check (response shape UNCERTAIN)."""
    return completed()


OPERATIONS = (
    OperationTable()
    .merge(public_routes, card_routes, report_routes, vault_routes, check_routes)
    .operations
)


class PayTraceSandbox:
    """The emulator behind :func:`create_app`; tests may reach it as ``app.state.sandbox``."""

    def __init__(
        self,
        settings: PayTraceSandboxSettings | None = None,
        *,
        faults: FaultInjector | None = None,
        notify_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or PayTraceSandboxSettings()
        self.clock = SandboxClock(self.settings.clock_start)
        self.faults = faults or FaultInjector(seed=self.settings.seed)
        self.operations: dict[str, Operation] = dict(OPERATIONS)
        self.notifier = Notifier(
            url=self.settings.notify_url,
            secret=self.settings.notify_secret or secret_from_seed(self.settings.seed),
            attempts=self.settings.notify_attempts,
            backoff_s=self.settings.notify_backoff_s,
            transport=notify_transport,
            seed=self.settings.seed,
        )
        self.reset()

    def reset(self, seed: int | None = None, *, keep_faults: bool = False) -> None:
        """Forget everything: data, tokens, clock offset and (unless kept) fault settings."""
        if seed is not None:
            self.settings.seed = seed
        self.clock.reset()
        self.state = SandboxState(self.settings)
        self.scheduler = Scheduler(self.state, self.clock.now())
        if not keep_faults:
            self.faults.reset(seed=self.settings.seed)
        self._ids = random.Random(self.settings.seed + 1)
        self._published = 0

    def publish_changes(self) -> None:
        fresh = self.state.changes[self._published :]
        self._published = len(self.state.changes)
        self.notifier.publish(fresh)

    def catch_up(self) -> None:
        """Run whatever the clock made due (recurring charges, daily cutoff)."""
        self.scheduler.catch_up(self.clock.now())
        self.publish_changes()

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _render(self, body: dict[str, Any], status: int, started: float, **kw: Any) -> Response:
        runtime = time.perf_counter() - started
        return render(body, status, request_id=self._request_id(), runtime_s=runtime, **kw)

    def _refuse(self, rejection: Rejection, started: float) -> Response:
        response = self._render(
            {"error": "sandbox_fault", "error_description": rejection.reason},
            rejection.status,
            started,
        )
        if rejection.retry_after_s is not None:
            response.headers["Retry-After"] = str(rejection.retry_after_s)
        return response

    async def token(self, request: Request) -> Response:
        """``POST /oauth/token`` with a form or JSON body."""
        started = time.perf_counter()
        rejection = await self.faults.admit(self.clock.now())
        if rejection is not None:
            return self._refuse(rejection, started)
        async with self.faults.serving():
            try:
                body = auth.issue(self.state, self.clock.now(), await _token_fields(request))
                status = 200
            except auth.OAuthFailure as exc:
                body, status = exc.body(), exc.status
        return self._render(body, status, started, token=True)

    async def v1(self, request: Request, path: str) -> Response:
        """Every ``/v1/...`` call: faults, latency, token, permissions, the handler."""
        started = time.perf_counter()
        operation = self.operations.get(path)
        if operation is None:
            return self._render({"error": "not_found", "error_description": path}, 404, started)
        if request.method != "POST" and not operation.public:
            return self._render(
                {"error": "method_not_allowed", "error_description": "use POST"}, 405, started
            )
        rejection = await self.faults.admit(self.clock.now())
        if rejection is not None:
            return self._refuse(rejection, started)
        async with self.faults.serving():
            body, status, committed = await self._run(request, operation)
        if committed and operation.writes and self.faults.should_drop_after_commit():
            await self.faults.hang()
            return self._refuse(Rejection(504, "Gateway timeout (sandbox fault)"), started)
        return self._render(body, status, started)

    async def _run(
        self, request: Request, operation: Operation
    ) -> tuple[dict[str, Any], int, bool]:
        settings = self.settings
        try:
            now = self.clock.now()
            if not operation.public:
                auth.verify(self.state, now, request.headers.get("authorization", ""))
            body = Body(await _json_fields(request))
            self.scheduler.catch_up(now)
            if not operation.public:
                self._check_access(operation, body)
            host = request.client.host if request.client else "127.0.0.1"
            reply = operation.handler(Call(self.state, self.scheduler, body, now, host))
        except VendorErrors as exc:
            return exc.body(), settings.error_status, False
        except auth.OAuthFailure as exc:
            return exc.body(), exc.status, False
        finally:
            self.publish_changes()
        declined = reply.outcome == "declined"
        return reply.body, settings.decline_status if declined else settings.approval_status, True

    def _check_access(self, operation: Operation, body: Body) -> None:
        if operation.permission in self.settings.denied_operations:
            raise VendorErrors.of(messages.INSUFFICIENT_PERMISSIONS, external_transaction_id="")
        integrator_id = body.text("integrator_id")
        expected = self.settings.integrator_id
        if not integrator_id or (expected is not None and integrator_id != expected):
            raise VendorErrors.of(messages.INVALID_INTEGRATOR_ID)


async def _token_fields(request: Request) -> dict[str, Any]:
    if "json" in request.headers.get("content-type", ""):
        return await _json_fields(request)
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _json_fields(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise auth.OAuthFailure("invalid_request", "The request body must be a JSON object.", 400)
    return data
