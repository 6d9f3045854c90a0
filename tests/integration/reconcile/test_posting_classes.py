"""The posting classes against both sandboxes, stored on SQLite and PostgreSQL: a journal left
unposted past its deadline, and a posted payment whose invoice D365 still holds open."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from payledger.bootstrap import reconcile_policy
from payledger.domain.clock import ManualClock
from payledger.domain.reconcile import to_html
from payledger.flows.reconcile_period import ReconcileCommand, reconcile_period
from payledger.stores.reconciliation import load_run
from tests.integration.reconcile.conftest import DAY, SETTINGS, Sandboxes, Scenario

NOW = ManualClock(datetime(2026, 3, 25, 10, 0, tzinfo=UTC))


async def post(sandboxes: Sandboxes, journal: str) -> None:
    sandbox = sandboxes.d365_app.state.sandbox
    answer = sandbox.post_journal("CustomerPaymentJournalHeaders", "usmf", journal)
    assert answer.status_code == 200, answer.body


async def test_overdue_journals_and_unsettled_invoices_are_exceptions(
    sandboxes: Sandboxes, recon_store, database
):
    control = sandboxes.d365_app.state.sandbox
    header = control.state.store.table("SalesInvoiceHeadersV2")
    numbers = sorted(r.values["InvoiceNumber"] for r in header if r.values["dataAreaId"] == "usmf")
    unsettled, settled = numbers[0], numbers[1]  # CIV-000001 (US-001), CIV-000002 (US-003)
    paid = Scenario(sandboxes)
    await paid.line("PT-81001-PAY", "20.00", customer="US-001")
    await paid.line("PT-81002-PAY", "30.00", customer="US-003")
    d365 = sandboxes.d365
    for line, invoice in ((1, unsettled), (2, settled)):
        key = {"dataAreaId": "usmf", "JournalBatchNumber": paid.journal, "LineNumber": line}
        await d365.update("CustomerPaymentJournalLines", key, {"MarkedInvoice": invoice})
    await post(sandboxes, paid.journal)
    # The settlement of the first invoice is lost (as when a settlement job fails in F&O).
    table = control.state.store.table("CustTransactions")
    [lost] = [r for r in table if r.values.get("Invoice") == unsettled]
    control.state.store.replace("CustTransactions", lost, {**lost.values, "SettleAmountCur": 0})
    stale = Scenario(sandboxes)
    await stale.line("PT-81003-PAY", "15.00", day=DAY - timedelta(days=3))
    fresh = Scenario(sandboxes)
    await fresh.line("PT-81004-PAY", "16.00")

    result = await reconcile_period(
        ReconcileCommand(DAY, DAY),
        policy=reconcile_policy(SETTINGS),
        gateway=sandboxes.settlement(),
        ledger=(lines := sandboxes.lines()),
        store=recon_store,
        clock=NOW,
        posting=lines,
    )

    report = result.report
    assert report["counts"]["posted_invoice_open"] == 1
    assert report["counts"]["journal_unposted_overdue"] == 1
    [open_item] = [i for i in report["items"] if i["class"] == "posted_invoice_open"]
    assert open_item["exception"] and open_item["d365_lines"] == [f"{paid.journal}/1"]
    assert f"invoice {unsettled} still open" in open_item["note"]
    assert "settled 0.00 of 20.00 paid" in open_item["note"]
    [overdue] = [i for i in report["items"] if i["class"] == "journal_unposted_overdue"]
    assert overdue["d365_lines"] == [f"{stale.journal}/1"]  # not the fresh journal
    assert f"journal {stale.journal} unposted" in overdue["note"]

    stored = await load_run(database, result.run_id)
    assert stored is not None
    rows = list(csv.DictReader(io.StringIO(stored["report_csv"])))
    assert {r["class"] for r in rows} >= {"posted_invoice_open", "journal_unposted_overdue"}
    assert stored["report_html"] == to_html(report)
    assert "posted_invoice_open" in stored["report_html"]
    assert Decimal(open_item["d365_amount"]) == Decimal("20.00")
