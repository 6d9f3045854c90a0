"""Console pages that only read: dashboard, payments, a payment's timeline, connections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from payledger.views.cash import FLOWS, cash_picture
from payledger.views.overview import Overview, overview
from payledger.views.timeline import payment_timeline, recent_payments
from payledger.web.console.access import ConsoleProblem, ViewerDep
from payledger.web.console.connections import connection_checks, system_status
from payledger.web.console.render import page
from payledger.web.deps import ContainerDep

router = APIRouter()

INBOX_STATES = ("received", "processed", "parked")
POSTING_STATES = ("planned", "sending", "unknown", "posted", "cancelled", "dead")


def _totals(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    """(name, state) → count, summed by state."""
    totals: dict[str, int] = {}
    for (_name, state), count in counts.items():
        totals[state] = totals.get(state, 0) + count
    return totals


def dashboard_numbers(seen: Overview) -> dict[str, Any]:
    postings = _totals(seen.postings)
    jobs = _totals(seen.jobs)
    inbox_states = list(INBOX_STATES) + sorted(set(seen.inbox) - set(INBOX_STATES))
    posting_states = list(POSTING_STATES) + sorted(set(postings) - set(POSTING_STATES))
    return {
        "inbox": {state: seen.inbox.get(state, 0) for state in inbox_states},
        "inbox_total": sum(seen.inbox.values()),
        "postings": {state: postings.get(state, 0) for state in posting_states},
        "postings_total": sum(postings.values()),
        "jobs": jobs,
        "dead_jobs": jobs.get("dead", 0),
        "dead_postings": postings.get("dead", 0),
    }


@router.get("/")
async def dashboard(request: Request, user: ViewerDep, container: ContainerDep) -> Response:
    """What is waiting, what was posted, what needs a human, whether both ends answer, and the
    cash of today and of this week."""
    seen = await overview(container.database, dead_limit=0)
    now = container.clock.now()
    d365 = container.settings.d365
    cash = await cash_picture(
        container.database, company=d365.company, timezone=d365.timezone, now=now
    )
    oldest_age = (
        (now - seen.oldest_unprocessed).total_seconds() if seen.oldest_unprocessed else None
    )
    checks = await connection_checks(container)
    systems = [system_status(checks, name) for name in ("PayTrace", "D365", "database")]
    context = {
        **dashboard_numbers(seen),
        "oldest_unprocessed": seen.oldest_unprocessed,
        "oldest_age": oldest_age,
        "systems": systems,
        "now": now,
        "cash": cash,
        "flows": FLOWS,
    }
    return page(request, "dashboard.html", context)


@router.get("/payments")
async def payments(
    request: Request, user: ViewerDep, container: ContainerDep, q: str = ""
) -> Response:
    """The latest payments, or those whose transaction id contains ``q``."""
    search = q.strip()[:64]
    found = await recent_payments(container.database, search=search)
    return page(request, "payments.html", {"payments": found, "q": search})


@router.get("/payments/{gateway_txn_id}")
async def payment(
    request: Request, gateway_txn_id: str, user: ViewerDep, container: ContainerDep
) -> Response:
    """Everything stored about one payment, in order: events, jobs, postings, audit."""
    timeline = await payment_timeline(container.database, gateway_txn_id)
    if not timeline.found:
        raise ConsoleProblem(
            404, "No such payment", f"nothing is stored about transaction {gateway_txn_id!r}"
        )
    return page(request, "payment.html", {"timeline": timeline})


@router.get("/connections")
async def connections(request: Request, user: ViewerDep, container: ContainerDep) -> Response:
    """Database, vault, PayTrace and D365 access, checked now (as ``payledger doctor``)."""
    checks = await connection_checks(container)
    return page(request, "connections.html", {"checks": checks})
