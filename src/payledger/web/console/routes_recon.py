"""Reconciliation reports: the runs, and each run's totals and items (read-only)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from payledger.bootstrap import Container
from payledger.stores.reconciliation import load_run, recent_runs
from payledger.web.console.access import ConsoleProblem, ViewerDep
from payledger.web.console.ids import row_id, shown
from payledger.web.console.render import SECURITY_HEADERS, page
from payledger.web.deps import ContainerDep

router = APIRouter()

RUNS_SHOWN = 50


@router.get("/reconciliation")
async def runs(request: Request, user: ViewerDep, container: ContainerDep) -> Response:
    """The latest reconciliation runs, newest first."""
    found = await recent_runs(container.database, RUNS_SHOWN)
    return page(request, "reconciliation.html", {"runs": found})


async def _run_with_report(container: Container, given: str) -> dict[str, Any]:
    run_id = row_id(given)
    run = await load_run(container.database, run_id) if run_id is not None else None
    if run is None:
        raise ConsoleProblem(404, "No such run", f"there is no reconciliation run {shown(given)}")
    if run["report"] is None:
        detail = f"run {run_id} is {run['status']}" + (f": {run['error']}" if run["error"] else "")
        raise ConsoleProblem(404, "No report", detail)
    return run


@router.get("/reconciliation/{run_id}")
async def run(request: Request, run_id: str, user: ViewerDep, container: ContainerDep) -> Response:
    """One run: verdict, totals per class, card type and batch, and the items to look at."""
    found = await _run_with_report(container, run_id)
    return page(request, "reconciliation_run.html", {"run": found, "report": found["report"]})


@router.get("/reconciliation/{run_id}/report.{kind}")
async def download(run_id: str, kind: str, user: ViewerDep, container: ContainerDep) -> Response:
    """The run's report as CSV (for a spreadsheet) or JSON."""
    found = await _run_with_report(container, run_id)
    if kind == "csv":
        body, media_type = found["report_csv"], "text/csv; charset=utf-8"
    elif kind == "json":
        body = json.dumps(found["report"], indent=2, sort_keys=True)
        media_type = "application/json"
    else:
        raise ConsoleProblem(404, "No such report", "reports come as .csv or .json")
    filename = f"reconciliation-{found['id']}.{kind}"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)
