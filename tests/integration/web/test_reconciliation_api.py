"""Reconciliation reports over HTTP: the runs, and each run as JSON, CSV and HTML."""

from __future__ import annotations

from datetime import date

import pytest

from payledger.domain.reconcile import (
    ReportContext,
    build_report,
    reconcile,
    to_csv,
    to_html,
)
from payledger.domain.reconcile.runs import RunRecord
from payledger.stores.api_clients import ApiClients
from payledger.stores.reconciliation import SqlReconStore
from tests.unit.domain.reconcile_builders import DAY, PERIOD, RULES, posted_for, txn


@pytest.fixture
async def client(client, container):
    """The service client, signed in with a token that may read."""
    async with container.database.transaction() as conn:
        issued = await ApiClients(container.clock).issue(conn, "finance", ["read"], actor="test")
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


async def stored_run(container) -> int:
    store = SqlReconStore(container.inbox)
    day = date.fromordinal(DAY)
    run_id = await store.start_run("usmf", day, day, "test")
    sale, lost = txn("301"), txn("302", 4_400)
    recon = reconcile([sale, lost], [posted_for(sale)], RULES, PERIOD)
    report = build_report(recon, ReportContext(run_id, "usmf", day, day, "2026-03-02T03:00:00"))
    await store.finish_run(run_id, RunRecord(report, to_csv(report), to_html(report)))
    return run_id


async def test_runs_are_listed_newest_first(client, container):
    first, second = await stored_run(container), await stored_run(container)
    failed = await SqlReconStore(container.inbox).start_run(
        "usmf", date(2026, 3, 2), date(2026, 3, 2), "test"
    )
    await SqlReconStore(container.inbox).fail_run(failed, "TransientError: D365 is down")
    reply = await client.get("/api/v1/reconciliations")
    assert reply.status_code == 200
    runs = reply.json()
    assert [r["id"] for r in runs] == [failed, second, first]
    assert runs[0]["status"] == "failed" and runs[0]["error"] == "TransientError: D365 is down"
    assert runs[1]["exceptions"] == 1 and runs[1]["first_day"] == "2026-03-01"


async def test_a_run_reads_as_json_csv_and_html(client, container):
    run_id = await stored_run(container)
    report = (await client.get(f"/api/v1/reconciliations/{run_id}")).json()
    assert report["run"] == run_id and report["counts"]["missing_in_d365"] == 1
    [item] = report["items"]
    assert (item["txn_id"], item["reference"]) == ("302", "PT-302-PAY")

    csv_reply = await client.get(f"/api/v1/reconciliations/{run_id}/report.csv")
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert "PT-302-PAY" in csv_reply.text
    html_reply = await client.get(f"/api/v1/reconciliations/{run_id}/report.html")
    assert html_reply.headers["content-type"].startswith("text/html")
    assert "<h2>Totals per class</h2>" in html_reply.text


async def test_an_unknown_or_failed_run_is_a_404(client, container):
    assert (await client.get("/api/v1/reconciliations/9999")).status_code == 404
    failed = await SqlReconStore(container.inbox).start_run(
        "usmf", date(2026, 3, 2), date(2026, 3, 2), "test"
    )
    await SqlReconStore(container.inbox).fail_run(failed, "boom")
    reply = await client.get(f"/api/v1/reconciliations/{failed}/report.html")
    assert reply.status_code == 404 and "failed" in reply.json()["detail"]


async def test_reports_need_a_token_that_may_read(client, container):
    run_id = await stored_run(container)
    anonymous = {"Authorization": ""}
    reply = await client.get(f"/api/v1/reconciliations/{run_id}", headers=anonymous)
    assert reply.status_code == 401
    async with container.database.transaction() as conn:
        shop = await ApiClients(container.clock).issue(
            conn, "shop", ["payments:write"], actor="test"
        )
    reply = await client.get(
        "/api/v1/reconciliations", headers={"Authorization": f"Bearer {shop.secret}"}
    )
    assert reply.status_code == 403


@pytest.mark.parametrize(
    "given", ["99999999999999999999", str(2**63), "-1", "0"], ids=lambda given: given[:24]
)
async def test_a_run_id_no_row_could_have_is_a_404(client, given):
    for suffix in ("", "/report.html", "/report.csv"):
        reply = await client.get(f"/api/v1/reconciliations/{given}{suffix}")
        assert reply.status_code == 404, suffix
        body = reply.json()
        assert body == {"error": "run_not_found", "detail": f"no reconciliation run {given}"}


async def test_a_run_id_too_long_to_read_as_a_number_is_refused_not_a_failure(client):
    reply = await client.get(f"/api/v1/reconciliations/{'9' * 5000}")
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_request"
