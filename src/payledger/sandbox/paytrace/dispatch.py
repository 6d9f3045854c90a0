"""How a v1 call is described (operation table), handled (Call → Reply) and rendered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import Response

from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.requests import Body
from payledger.sandbox.paytrace.scheduler import Scheduler
from payledger.sandbox.paytrace.settings import PayTraceSandboxSettings
from payledger.sandbox.paytrace.state import SandboxState

JSON_TYPE = "application/json; charset=utf-8"


@dataclass
class Call:
    """One authenticated v1 request as a handler sees it."""

    state: SandboxState
    scheduler: Scheduler
    body: Body
    now: datetime
    from_ip: str = "127.0.0.1"

    @property
    def settings(self) -> PayTraceSandboxSettings:
        return self.state.settings


@dataclass(frozen=True)
class Reply:
    body: dict[str, Any]
    outcome: Literal["approved", "declined"] = "approved"


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Operation:
    path: str
    handler: Handler
    permission: str
    """Name checked against ``settings.denied_operations`` (error 981)."""
    writes: bool
    """Writes commit state, so "commit then drop" faults apply to them."""
    public: bool = False
    """Public operations (``/v1/ping``) need neither a token nor an integrator id."""


@dataclass
class OperationTable:
    operations: dict[str, Operation] = field(default_factory=dict)

    def post(
        self, path: str, *, permission: str, writes: bool = True, public: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations[path] = Operation(path, handler, permission, writes, public)
            return handler

        return register

    def merge(self, *tables: OperationTable) -> OperationTable:
        for table in tables:
            self.operations.update(table.operations)
        return self


def collect(*steps: Callable[[], Any]) -> list[Any]:
    """Run each validation step, gathering every ``VendorErrors`` into one (35 + 43 together)."""
    results: list[Any] = []
    problems = VendorErrors()
    for step in steps:
        try:
            results.append(step())
        except VendorErrors as exc:
            for code, texts in exc.errors.items():
                for text in texts:
                    problems.add(code, text)
            problems.extra.update(exc.extra)
            results.append(None)
    problems.raise_if_any()
    return results


def json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def render(
    body: dict[str, Any], status: int, *, request_id: str, runtime_s: float, token: bool = False
) -> Response:
    """A Rails-looking JSON answer, headers as recorded from the real sandbox (§2)."""
    content = json.dumps(body, default=json_default, separators=(",", ":")).encode()
    headers = {
        "X-Request-Id": request_id,
        "X-Runtime": f"{runtime_s:.6f}",
        "Cache-Control": "no-store" if token else "max-age=0, private, must-revalidate",
    }
    if not token:
        headers["ETag"] = f'W/"{hashlib.md5(content).hexdigest()}"'
    return Response(content, status_code=status, headers=headers, media_type=JSON_TYPE)
