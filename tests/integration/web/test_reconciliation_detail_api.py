"""The per-transaction detail of a daily-summary reconciliation, downloaded as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from payledger.domain.money import Money
from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import ReportContext, build_report, to_csv, to_html
from payledger.domain.reconcile.runs import RunRecord
from payledger.domain.reconcile.summary import match_summaries
from payledger.domain.summary import DetailRow, SettledBatch, SummaryMember, summary_lines
from payledger.stores.api_clients import ApiClients
from payledger.stores.reconciliation import SqlReconStore
from payledger.stores.summary import SqlSummaryStore
from tests.integration.web.test_reconciliation_api import stored_run
from tests.unit.domain.reconcile_builders import DAY, PERIOD, RULES

ON = date.fromordinal(DAY)
DETAIL = [
    DetailRow("413", "301", "VISA", "payment", "100.00", "USD", "PT-SUM-413-VISA"),
    DetailRow("413", "302", "VISA", "refund", "-20.00", "USD", "PT-SUM-413-VISA"),
    DetailRow("414", "401", "AMEX", "payment", "9.99", "USD", "PT-SUM-414-AMEX"),
]


@pytest.fixture
async def client(client, container):
    async with container.database.transaction() as conn:
        issued = await ApiClients(container.clock).issue(conn, "finance", ["read"], actor="test")
    client.headers["Authorization"] = f"Bearer {issued.secret}"
    return client


async def summary_run(container) -> int:
    """A daily-summary run over batch 413, whose detail payledger keeps."""
    await SqlSummaryStore(container.queue).record_summary(
        DETAIL, [], company="usmf", business_day=ON.isoformat()
    )
    store = SqlReconStore(container.inbox)
    run_id = await store.start_run("usmf", ON, ON, "test")
    members = (SummaryMember("413", "301", "VISA", LedgerOperation.PAYMENT, Money.of("100")),)
    lines = summary_lines(SettledBatch("413", ON, "USD", members, Money.of("0")))
    recon = match_summaries(lines, [], RULES, PERIOD, on_the_way={"PT-SUM-413-VISA"})
    report = build_report(recon, ReportContext(run_id, "usmf", ON, ON, "2026-03-02T03:00:00"))
    report["granularity"] = "daily_summary"
    await store.finish_run(run_id, RunRecord(report, to_csv(report), to_html(report)))
    return run_id


async def test_a_summary_run_serves_the_detail_of_its_batches(client, container):
    run_id = await summary_run(container)
    reply = await client.get(f"/api/v1/reconciliations/{run_id}/detail.csv")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert f"reconciliation-{run_id}-detail.csv" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [
        (r["batch"], r["txn_id"], r["kind"], r["amount"], r["line_reference"]) for r in rows
    ] == [
        ("413", "301", "payment", "100.00", "PT-SUM-413-VISA"),
        ("413", "302", "refund", "-20.00", "PT-SUM-413-VISA"),
    ]  # batch 414 is another run's
    html = await client.get(f"/api/v1/reconciliations/{run_id}/report.html")
    assert 'href="detail.csv"' in html.text


async def test_a_per_payment_run_has_no_detail(client, container):
    run_id = await stored_run(container)
    reply = await client.get(f"/api/v1/reconciliations/{run_id}/detail.csv")
    assert reply.status_code == 404
    assert reply.json()["error"] == "no_detail"
    assert "one line per payment" in reply.json()["detail"]
    html = await client.get(f"/api/v1/reconciliations/{run_id}/report.html")
    assert "detail.csv" not in html.text


async def test_an_unknown_run_has_no_detail(client):
    reply = await client.get("/api/v1/reconciliations/9999/detail.csv")
    assert (reply.status_code, reply.json()["error"]) == (404, "run_not_found")
