"""Reconciliation reports over HTTP, read-only: the runs, a run's JSON, CSV and HTML report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, Response

from payledger.bootstrap import Container
from payledger.domain.summary import detail_csv
from payledger.stores.reconciliation import load_run, recent_runs
from payledger.stores.summary import summary_detail
from payledger.web.auth import require_scope
from payledger.web.deps import ContainerDep
from payledger.web.problems import ApiProblem, ErrorBody

router = APIRouter(
    prefix="/api/v1/reconciliations",
    tags=["reconciliation"],
    dependencies=[Depends(require_scope("read"))],
)

RunId = Annotated[int, Path(description="A run's id")]
LARGEST_ID = 2**63 - 1
"""The largest id a column holds (PostgreSQL BIGINT, SQLite INTEGER): a larger or negative
run id names no run (404) and is never sent to the database, where it would fail (500)."""

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such run, or the run has no report (it failed)"}
}


async def _report_of(container: Container, run_id: int) -> dict[str, Any]:
    run = await load_run(container.database, run_id) if 1 <= run_id <= LARGEST_ID else None
    if run is None:
        raise ApiProblem(404, "run_not_found", f"no reconciliation run {run_id}")
    if run["report"] is None:
        raise ApiProblem(404, "no_report", f"run {run_id} is {run['status']} and has no report")
    return run


@router.get("")
async def list_reconciliations(container: ContainerDep, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first: period, status and number of exceptions."""
    runs = await recent_runs(container.database, min(max(limit, 1), 200))
    return [
        {
            **{k: v for k, v in run.items() if k not in ("started_at", "finished_at")},
            "started_at": run["started_at"].isoformat(),
            "finished_at": run["finished_at"].isoformat() if run["finished_at"] else None,
        }
        for run in runs
    ]


@router.get("/{run_id}", responses=_NOT_FOUND)
async def read_reconciliation(run_id: RunId, container: ContainerDep) -> dict[str, Any]:
    """A run's report: counts and totals per class, card type and batch, and its items."""
    report: dict[str, Any] = (await _report_of(container, run_id))["report"]
    return report


@router.get("/{run_id}/report.html", response_class=HTMLResponse, responses=_NOT_FOUND)
async def read_reconciliation_html(run_id: RunId, container: ContainerDep) -> HTMLResponse:
    """The report as a readable page."""
    return HTMLResponse((await _report_of(container, run_id))["report_html"])


@router.get("/{run_id}/report.csv", response_class=Response, responses=_NOT_FOUND)
async def read_reconciliation_csv(run_id: RunId, container: ContainerDep) -> Response:
    """The report's items as CSV, for a spreadsheet."""
    run = await _report_of(container, run_id)
    return Response(
        run["report_csv"],
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="reconciliation-{run_id}.csv"'},
    )


@router.get("/{run_id}/detail.csv", response_class=Response, responses=_NOT_FOUND)
async def read_reconciliation_detail(run_id: RunId, container: ContainerDep) -> Response:
    """Daily-summary mode: every transaction behind the run's summary lines, as CSV."""
    run = await _report_of(container, run_id)
    report = run["report"]
    if report.get("granularity") != "daily_summary":
        raise ApiProblem(
            404,
            "no_detail",
            f"run {run_id} reconciled one line per payment: it has no summary detail",
        )
    batches = [batch["batch"] for batch in report["totals"]["by_batch"]]
    rows = await summary_detail(container.database, report["company"], batches)
    return Response(
        detail_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="reconciliation-{run_id}-detail.csv"'
        },
    )
