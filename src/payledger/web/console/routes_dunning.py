"""Dunning: the cases with their amounts at risk and the recovery rate by week, one case's
timeline, and an operator's retry now, stop and mark paid elsewhere (audited as
``console:<user>``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap.dunning import operator_ports, retry_command
from payledger.domain.dunning import DunningCase
from payledger.domain.errors import PayLedgerError
from payledger.flows.dunning import mark_paid_elsewhere, retry_case_now, stop_case
from payledger.stores.dunning import SqlDunning
from payledger.views.dunning import STATUSES, at_risk, case_audit, case_list, recovery_by_week
from payledger.web.console.access import (
    ConsoleProblem,
    OperatorDep,
    ViewerDep,
    check_csrf,
)
from payledger.web.console.ids import shown
from payledger.web.console.render import console_base, page
from payledger.web.console.rows import check_version, found_row
from payledger.web.deps import ContainerDep

router = APIRouter()

CASES_SHOWN = 200
ACTIONS = {"retry": "retried", "stop": "stopped", "paid-elsewhere": "marked paid elsewhere"}


@router.get("/dunning")
async def dunning_page(
    request: Request, user: ViewerDep, container: ContainerDep, status: str = ""
) -> Response:
    """Dunning cases, the amounts at risk by currency and the recovery rate by ISO week."""
    chosen = status if status in STATUSES else ""
    context = {
        "cases": await case_list(container.database, status=chosen or None, limit=CASES_SHOWN),
        "at_risk": await at_risk(container.database),
        "weeks": await recovery_by_week(container.database),
        "statuses": STATUSES,
        "chosen": chosen,
    }
    return page(request, "dunning.html", context)


async def _case(container: ContainerDep, given: str) -> DunningCase:
    store = SqlDunning(container.database, container.clock)
    return await found_row(given, store.get, "dunning case")


@router.get("/dunning/{given}")
async def case_detail(
    request: Request, user: ViewerDep, container: ContainerDep, given: str, done: str = ""
) -> Response:
    """One case: invoice, status, next retry, its attempts and audit trail, and its actions."""
    case = await _case(container, given)
    context = {
        "c": case,
        "audit": await case_audit(container.database, case.id),
        "done": done[:200],
    }
    return page(request, "dunning_case.html", context)


@router.post("/dunning/{given}/{action}")
async def act(
    request: Request,
    user: OperatorDep,
    container: ContainerDep,
    given: str,
    action: str,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Retry now, stop, or mark paid elsewhere the version of the case the operator saw."""
    check_csrf(user, csrf)
    if action not in ACTIONS:
        raise ConsoleProblem(404, "No such action", f"dunning cases cannot {shown(action)}")
    case = await _case(container, given)
    check_version("dunning case", case.id, case.version, version)
    actor = f"console:{user.name}"
    why = reason.strip()[:200] or f"{ACTIONS[action]} in the console"
    try:
        ports = await operator_ports(container)
        if action == "retry":
            command = retry_command(container.settings, owner=f"console:{case.id}")
            case = await retry_case_now(case.id, ports, command, actor=actor)
        elif action == "stop":
            case = await stop_case(case.id, ports, actor=actor, reason=why)
        else:
            case = await mark_paid_elsewhere(case.id, ports, actor=actor, reason=why)
    except PayLedgerError as exc:
        raise ConsoleProblem(409, "Not changed", str(exc)) from None
    done = f"dunning case {case.id} {ACTIONS[action]}: now {case.status.value}"
    target = f"{console_base(request)}/dunning/{case.id}?{urlencode({'done': done})}"
    return RedirectResponse(target, status_code=303)
