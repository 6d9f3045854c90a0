"""Reconciliation against both sandboxes: every class seeded and detected, auto-heal exactly
once even when runs overlap, and the report stored and readable."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from payledger.adapters.db.tables import alerts, inbox, jobs, recon_items
from payledger.alerts import AlertCenter, AlertStore, Windows
from payledger.bootstrap import reconcile_policy
from payledger.config import Settings
from payledger.domain.clock import ManualClock
from payledger.domain.codec import payment_from_dict
from payledger.domain.errors import TransientError
from payledger.domain.reconcile.render import CSV_COLUMNS
from payledger.engine.inbox import Inbox
from payledger.engine.queue import Queue
from payledger.flows.post_journals import FlushJournals, flush_journals
from payledger.flows.post_payment import PostingRules, PostingTemplates, post_payment
from payledger.flows.reconcile_period import ReconcileCommand, reconcile_period
from payledger.mapping import compile_template, default_templates
from payledger.stores.postings import SqlPostingStore
from payledger.stores.reconciliation import SqlReconStore, load_run, recent_runs
from payledger.templates import template_settings
from tests.integration.reconcile.conftest import DAY, SETTINGS, seed_every_class

POLICY = reconcile_policy(SETTINGS)
NOW = ManualClock(datetime(2026, 3, 25, 10, 0, tzinfo=UTC))


class RecordingAlerts:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def notify(self, key, title, text, *, severity="warning", facts=None) -> None:
        self.sent.append({"key": key, "title": title, "text": text, "facts": dict(facts or {})})


async def reconcile_day(sandboxes, store, **options):
    return await reconcile_period(
        ReconcileCommand(DAY, DAY),
        policy=options.pop("policy", POLICY),
        gateway=sandboxes.settlement(),
        ledger=sandboxes.lines(),
        store=store,
        clock=NOW,
        **options,
    )


def by_txn(report) -> dict[str, dict]:
    return {item["txn_id"]: item for item in report["items"] if item["txn_id"]}


async def test_every_class_seeded_in_the_sandboxes_is_detected(sandboxes, recon_store):
    s = await seed_every_class(sandboxes)
    alerts = RecordingAlerts()
    result = await reconcile_day(sandboxes, recon_store, alerts=alerts)
    report, items = result.report, by_txn(result.report)

    assert items[s.txns["missing"]]["class"] == "missing_in_d365"
    assert items[s.txns["amount"]]["class"] == "amount_mismatch"
    assert items[s.txns["currency"]]["class"] == "currency_mismatch"
    assert items[s.txns["duplicate"]]["class"] == "duplicate_in_d365"
    assert items[s.txns["voided"]]["class"] == "status_mismatch"
    assert items[s.txns["fee"]]["class"] == "fee_difference"
    assert items[s.txns["timing"]]["class"] == "timing_difference"
    assert items[s.txns["timing"]]["exception"] is False  # 3 days late: within the lag
    strangers = {i["reference"]: i["class"] for i in report["items"] if not i["txn_id"]}
    assert strangers == {
        "PT-999999999-PAY": "missing_in_paytrace",
        "cheque 5531": "missing_in_paytrace",
    }
    for role in ("matched", "refund", "by_hand", "ach", "earlier_batch"):
        assert s.txns[role] not in items, role
    assert report["counts"]["matched"] == 4  # a sale, the refund, a line keyed by hand, ACH
    assert report["exceptions"] == 8

    ach, batch = report["totals"]["by_batch"]
    assert (ach["batch"], ach["count"], ach["paytrace"]) == ("ACH", 1, {"USD": "310.00"})
    assert batch["batch"] == s.batch and batch["settled"] == "2026-03-24"
    assert batch["paytrace"] == {"USD": "346.67"}  # 366.67 of sales less a 20.00 refund
    assert batch["expected_fees"] == {"USD": "9.03"}
    assert set(report["totals"]["by_card_type"]) == {"VISA", "MASTERCARD", "AMEX", "ACH"}
    assert items[s.txns["missing"]]["heal"] == "enqueued"
    assert batch["deposit"] == "enqueued"

    [alert] = alerts.sent
    assert alert["key"] == "reconcile:usmf:2026-03-24:2026-03-24"
    assert alert["facts"]["missing in d365"] == 1 and alert["facts"]["missing in paytrace"] == 2
    assert f"/api/v1/reconciliations/{result.run_id}/report.html" in alert["facts"]["report"]


async def test_a_run_with_few_exceptions_does_not_alert(sandboxes, recon_store):
    await seed_every_class(sandboxes)
    alerts = RecordingAlerts()
    quiet = reconcile_policy(Settings(reconcile={"alert_threshold": 8, "auto_heal": False}))
    result = await reconcile_day(sandboxes, recon_store, alerts=alerts, policy=quiet)
    assert result.exceptions == 8 and alerts.sent == []
    assert all(item["heal"] == "" for item in result.report["items"])


async def test_the_report_is_stored_as_json_csv_and_html(sandboxes, recon_store, database):
    s = await seed_every_class(sandboxes)
    result = await reconcile_day(sandboxes, recon_store)
    run = await load_run(database, result.run_id)
    assert run["status"] == "done" and run["exceptions"] == 8
    assert run["report"]["counts"] == result.report["counts"]

    rows = list(csv.DictReader(io.StringIO(run["report_csv"])))
    assert tuple(rows[0]) == CSV_COLUMNS
    missing = next(r for r in rows if r["txn_id"] == s.txns["missing"])
    assert missing["reference"] == f"PT-{s.txns['missing']}-PAY"
    assert (missing["class"], missing["exception"], missing["paytrace_amount"]) == (
        "missing_in_d365",
        "yes",
        "61.50",
    )
    html = run["report_html"]
    for text in ("Totals per class", "Per card type", "Per batch", s.batch, s.txns["fee"]):
        assert text in html
    async with database.transaction() as conn:
        stored = (
            await conn.execute(select(recon_items).where(recon_items.c.run_id == result.run_id))
        ).all()
    assert len(stored) == len(result.report["items"]) == 9


async def post_what_the_inbox_holds(sandboxes, database) -> None:
    """What a worker does with the stored events: the posting flow, then a journal flush."""
    values = template_settings(Settings())
    defaults = default_templates()
    templates = PostingTemplates(
        journal_line=compile_template(defaults["d365_payment_journal_line"], values),
        order_status=compile_template(defaults["d365_order_payment_status"], values),
    )
    store = SqlPostingStore(_queue(database))
    ledger = sandboxes.posting_ledger()
    rules = PostingRules(
        company="usmf", timezone="America/Los_Angeles", fallback_customer_account="US-001"
    )
    async with database.transaction() as conn:
        events = (await conn.execute(select(inbox).where(inbox.c.status == "received"))).all()
    for event in events:
        payment = payment_from_dict(event.payload)
        await post_payment(
            event.id, payment, rules=rules, templates=templates, ledger=ledger, store=store
        )
    flush = FlushJournals(company="usmf", journal_name="CustPay", max_lines=50)
    await flush_journals(flush, store=store, ledger=ledger)


def _queue(database) -> Queue:
    return Queue(database, clock=NOW)


async def test_auto_heal_posts_exactly_once_even_when_runs_overlap(sandboxes, database):
    s = await seed_every_class(sandboxes)
    missing = s.txns["missing"]
    stores = [SqlReconStore(_inbox(database)) for _ in range(2)]
    first, second = await asyncio.gather(*(reconcile_day(sandboxes, st) for st in stores))
    states = {by_txn(r.report)[missing]["heal"] for r in (first, second)}
    assert states == {"enqueued", "in_flight"}
    async with database.transaction() as conn:
        events = await conn.scalar(select(func.count()).select_from(inbox))
        processing = await conn.scalar(select(func.count()).where(jobs.c.kind == "payment.process"))
    assert (events, processing) == (1, 1)

    await post_what_the_inbox_holds(sandboxes, database)
    assert (
        len(
            await sandboxes.rows(
                "CustomerPaymentJournalLines", PaymentReference=f"PT-{missing}-PAY"
            )
        )
        == 1
    )

    third = await reconcile_day(sandboxes, SqlReconStore(_inbox(database)))
    assert missing not in by_txn(third.report)  # matched now
    assert third.report["heals"] == {"verified_from_earlier_runs": 2}  # each run's item
    async with database.transaction() as conn:
        heals = (
            (
                await conn.execute(
                    select(recon_items.c.heal_state).where(recon_items.c.txn_id == missing)
                )
            )
            .scalars()
            .all()
        )
    assert heals == ["verified", "verified"]


def _inbox(database) -> Inbox:
    return Inbox(_queue(database))


async def test_too_many_exceptions_reach_the_alert_centre(sandboxes, database):
    await seed_every_class(sandboxes)
    queue = _queue(database)

    async def no_sinks():
        return []

    centre = AlertCenter(queue, AlertStore(database, Windows()), no_sinks)
    result = await reconcile_day(sandboxes, SqlReconStore(Inbox(queue)), alerts=centre)
    async with database.transaction() as conn:
        [alert] = (await conn.execute(select(alerts))).all()
    assert alert.key == "reconcile:usmf:2026-03-24:2026-03-24"
    assert alert.title == "Reconciliation 2026-03-24..2026-03-24: 8 exception(s)"
    assert alert.facts["missing in d365"] == "1"
    assert f"/api/v1/reconciliations/{result.run_id}/report.html" in alert.facts["report"]


async def test_a_run_that_cannot_finish_is_kept_as_failed_with_its_reason(
    sandboxes, recon_store, database
):
    await seed_every_class(sandboxes)
    sandboxes.d365_app.state.sandbox.state.faults.settings.update({"outage": True})
    with pytest.raises(TransientError):
        await reconcile_day(sandboxes, recon_store)
    [run] = await recent_runs(database)
    assert run["status"] == "failed" and run["error"].startswith("TransientError: ")
    assert (await load_run(database, run["id"]))["report"] is None
