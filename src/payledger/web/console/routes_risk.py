"""Risk review: the items held for review with their scores and reasons, and an operator's
approve or reject with a comment (audited as ``console:<user>``). A decision happens once:
an item decided meanwhile (in another tab, the CLI or another process) is shown as it was
decided, not decided again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap.risk import decide, review_queue
from payledger.domain.errors import PayLedgerError
from payledger.flows.ports.risk import ReviewState
from payledger.web.console.access import (
    ConsoleProblem,
    OperatorDep,
    ViewerDep,
    check_csrf,
)
from payledger.web.console.ids import shown
from payledger.web.console.render import console_base, page
from payledger.web.console.rows import found_row
from payledger.web.deps import ContainerDep

router = APIRouter()

DECISIONS = {"approve": True, "reject": False}
DECIDED_SHOWN = 50


@router.get("/risk")
async def risk_page(
    request: Request, user: ViewerDep, container: ContainerDep, done: str = ""
) -> Response:
    """Items waiting for a decision, oldest first, and the latest decided ones."""
    queue = review_queue(container)
    decided = [item for item in await queue.items(None) if item.state is not ReviewState.PENDING]
    context = {
        "pending": await queue.items(),
        "decided": decided[-DECIDED_SHOWN:][::-1],
        "mode": container.settings.risk.mode,
        "done": done[:200],
    }
    return page(request, "risk.html", context)


@router.post("/risk/{given}/{decision}")
async def decide_item(
    request: Request,
    user: OperatorDep,
    container: ContainerDep,
    given: str,
    decision: str,
    csrf: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Approve (what is held goes ahead, once) or reject (never) one held item."""
    check_csrf(user, csrf)
    if decision not in DECISIONS:
        raise ConsoleProblem(404, "No such decision", f"review items cannot {shown(decision)}")
    item = await found_row(given, review_queue(container).item, "review item")
    try:
        decided = await decide(
            container,
            item.id,
            approve=DECISIONS[decision],
            actor=f"console:{user.name}",
            comment=comment.strip()[:500],
        )
    except PayLedgerError as exc:
        raise ConsoleProblem(409, "Not decided", str(exc)) from None
    now = decided.item
    if decided.applied:
        done = f"review item {now.id} ({now.kind.value} {now.ref}) {now.state.value}"
    else:
        done = f"review item {now.id} was already {now.state.value} by {now.decided_by}"
    target = f"{console_base(request)}/risk?{urlencode({'done': done})}"
    return RedirectResponse(target, status_code=303)
