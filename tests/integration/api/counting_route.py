"""``POST /test/charges``: a route that runs its work through an Idempotency-Key and counts it.

The body's ``outcome`` chooses how the work ends; ``announces`` makes it announce its effect
(``idempotency.effects_begin()``) before counting one, as the payments routes do.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from payledger.domain.errors import AmbiguousOutcome, CardDataRejected, TransientError
from payledger.stores.api_clients import ApiClient
from payledger.web.auth import require_scope
from payledger.web.idempotency import IdempotencyDep, Reply
from payledger.web.problems import ApiProblem

PATH = "/test/charges"


class Charge(BaseModel):
    amount: str
    outcome: str = "ok"
    announces: bool = False


class Counter:
    """How often the work ran, and how many effects it had; ``gate`` holds the first run
    before its effect until set."""

    def __init__(self) -> None:
        self.runs = 0
        self.effects = 0
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()


def _refuse(outcome: str) -> None:
    if outcome == "not_found":
        raise ApiProblem(404, "invoice_not_found", "no such invoice")
    if outcome == "busy":
        raise ApiProblem(409, "not_allowed", "another charge of the invoice is running")
    if outcome == "throttled":
        raise ApiProblem(429, "too_many_requests", "slow down")
    if outcome == "card_data":
        raise CardDataRejected(["lines.0.description"])
    if outcome == "d365_down":
        raise TransientError("D365 is down", system="d365")
    if outcome == "crash":
        raise RuntimeError("a bug")


def install(app: FastAPI, counter: Counter) -> None:
    router = APIRouter()

    @router.post(PATH, status_code=201)
    async def charge(
        body: Charge,
        client: Annotated[ApiClient, Depends(require_scope("payments:write"))],
        idempotency: IdempotencyDep,
    ) -> JSONResponse:
        async def work() -> Reply:
            counter.runs += 1
            counter.started.set()
            if counter.gate is not None and counter.runs == 1:
                await counter.gate.wait()
            _refuse(body.outcome)
            if body.announces:
                await idempotency.effects_begin()
            counter.effects += 1
            if body.outcome == "lost":
                raise AmbiguousOutcome("no answer from PayTrace", system="paytrace")
            status = 402 if body.outcome == "declined" else 201
            return Reply(status, {"charge": counter.runs, "amount": body.amount})

        return await idempotency.run(client, work, announces_effects=body.announces)

    app.include_router(router)


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def post(http: Any, headers: dict[str, str], body: dict[str, Any], key: str | None = "k-1"):
    if key is not None:
        headers = keyed(headers, key)
    return await http.post(PATH, json=body, headers=headers)
