"""Subscriptions: the list with status and next charge, one subscription's periods and audit
trail, and an operator's pause, resume and cancel (audited as ``console:<user>``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap.subscriptions import change_ports
from payledger.domain.errors import PayLedgerError
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.flows.change_subscription import (
    CancelSubscription,
    ChangePorts,
    PauseSubscription,
    ResumeSubscription,
    cancel_subscription,
    pause_subscription,
    resume_subscription,
)
from payledger.stores.subscriptions import SqlSubscriptions
from payledger.views.subscriptions import subscription_audit, subscription_page
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

SUBSCRIPTIONS_SHOWN = 200
STATUSES = [status.value for status in SubscriptionStatus]


@router.get("/subscriptions")
async def subscriptions_page(
    request: Request, user: ViewerDep, container: ContainerDep, status: str = ""
) -> Response:
    """Subscriptions with status, amount and next charge date; filtered by status."""
    chosen = status if status in STATUSES else ""
    rows = await subscription_page(
        container.database, status=chosen or None, limit=SUBSCRIPTIONS_SHOWN
    )
    context = {"subscriptions": rows, "statuses": STATUSES, "chosen": chosen}
    return page(request, "subscriptions.html", context)


async def _subscription(container: ContainerDep, given: str) -> Subscription:
    store = SqlSubscriptions(container.database, container.clock)
    return await found_row(given, store.get, "subscription")


@router.get("/subscriptions/{given}")
async def subscription_detail(
    request: Request, user: ViewerDep, container: ContainerDep, given: str, done: str = ""
) -> Response:
    """One subscription: plan, status, next charge, billed periods, audit trail, actions."""
    subscription = await _subscription(container, given)
    store = SqlSubscriptions(container.database, container.clock)
    context = {
        "s": subscription,
        "next_charge": subscription.next_due(),
        "periods": await store.entries(subscription.id),
        "audit": await subscription_audit(container.database, subscription.id),
        "done": done[:200],
    }
    return page(request, "subscription.html", context)


async def _act(action: str, subscription: Subscription, actor: str, ports: ChangePorts) -> str:
    sid, version = subscription.id, subscription.version
    if action == "pause":
        await pause_subscription(PauseSubscription(sid, actor, version), ports)
        return "paused"
    if action == "resume":
        await resume_subscription(ResumeSubscription(sid, actor, version), ports)
        return "resumed"
    at_end = action == "cancel-at-period-end"
    await cancel_subscription(CancelSubscription(sid, actor, at_end, version), ports)
    return "cancelled at the end of this period" if at_end else "cancelled"


@router.post("/subscriptions/{given}/{action}")
async def change(
    request: Request,
    user: OperatorDep,
    container: ContainerDep,
    given: str,
    action: str,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """Pause, resume or cancel (now or at period end) the version the operator saw."""
    check_csrf(user, csrf)
    if action not in ("pause", "resume", "cancel", "cancel-at-period-end"):
        raise ConsoleProblem(404, "No such action", f"subscriptions cannot {shown(action)}")
    subscription = await _subscription(container, given)
    check_version("subscription", subscription.id, subscription.version, version)
    try:
        ports = await change_ports(container, charge_upgrades=False)
        did = await _act(action, subscription, f"console:{user.name}", ports)
    except PayLedgerError as exc:
        raise ConsoleProblem(409, "Not changed", str(exc)) from None
    done = f"subscription {subscription.id} {did}"
    target = f"{console_base(request)}/subscriptions/{subscription.id}?{urlencode({'done': done})}"
    return RedirectResponse(target, status_code=303)
