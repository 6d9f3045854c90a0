"""Shadow mode: a day of real PayTrace payments, D365 read but never written, and a report of
every would-be write that adds up to what PayTrace says."""

from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from payledger.adapters.db.tables import postings
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.adapters.paytrace.translate import payment_from_export
from payledger.bootstrap import Container, build
from payledger.config import (
    D365Settings,
    DatabaseSettings,
    LoggingSettings,
    PayTraceSettings,
    PostingSettings,
    Settings,
    VaultSettings,
    WorkerSettings,
)
from payledger.demo.day import Shop
from payledger.demo.stage import DISCRETIONARY_TITLES, Stage, sandboxes
from payledger.doctor.startup import require_valid_templates
from payledger.domain import Outcome, PaymentKind, PaymentStatus
from payledger.domain.posting import LedgerOperation, payment_reference
from payledger.engine.jobs import JobStatus
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import SqlPaymentEventStore
from payledger.views.shadow import shadow_totals, shadow_writes

PAYLEDGER = [sys.executable, "-m", "payledger.cli.main"]


def shadow_settings(workdir, stage: Stage) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{workdir / 'payledger.db'}"),
        vault=VaultSettings(key_file=workdir / "master.key"),
        logging=LoggingSettings(file=None),
        worker=WorkerSettings(poll_interval_seconds=0.05, backoff_base_seconds=0.1,
                              backoff_cap_seconds=0.5, max_attempts=30),
        paytrace=PayTraceSettings(base_url=stage.paytrace_url, username="demo123",
                                  integrator_id="payledger-test",
                                  discretionary_titles=list(DISCRETIONARY_TITLES)),
        d365=D365Settings(enabled=True, base_url=stage.d365_url, authority_host=stage.d365_url,
                          tenant="payledger-sandbox", client_id="payledger-client",
                          ca_file=stage.certificate),
        posting=PostingSettings(mode="shadow", max_wait_ms=50),
    )  # fmt: skip


async def drained(container: Container, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with container.database.transaction() as conn:
            jobs = await container.queue.counts(conn)
            owed = await conn.scalar(
                select(func.count()).where(postings.c.state.in_(("planned", "sending", "unknown")))
            )
        if jobs[JobStatus.PENDING] + jobs[JobStatus.RUNNING] == 0 and not owed:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the day did not settle")


async def paytrace_says(shop: Shop, day) -> dict[str, Decimal]:
    """Signed amount each ledger line must carry, by reference, from PayTrace's own export."""
    expected = {}
    for record in await shop.client.export_transactions(day, day):
        payment = payment_from_export(record)
        if payment.outcome is not Outcome.APPROVED or payment.status is PaymentStatus.VOIDED:
            continue
        if payment.kind in (PaymentKind.SALE, PaymentKind.CAPTURE):
            reference = payment_reference(payment.gateway_txn_id, LedgerOperation.PAYMENT)
            expected[reference] = payment.amount.amount
        elif payment.kind is PaymentKind.REFUND:
            reference = payment_reference(payment.gateway_txn_id, LedgerOperation.REFUND)
            expected[reference] = -payment.amount.amount
    return expected


async def a_shadow_day(container: Container, stage: Stage) -> Shop:
    await container.prepare()
    await container.vault.set("paytrace-password", "demo123", actor="test")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="test")
    await require_valid_templates(container)
    paytrace = await container.paytrace_client()
    shop = Shop(paytrace, seed=3)
    store = SqlPaymentEventStore(container.inbox)
    command = PollPayments(overlap=timedelta(minutes=30), first_lookback=timedelta(hours=2))

    async def poll_and_drain() -> None:
        source = PayTraceGateway(paytrace)
        await poll_payments(command, source=source, store=store, clock=container.clock)
        await drained(container)

    workers = [container.worker(name=f"shadow-{n}") for n in range(2)]
    running = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        await shop.sales(12)
        await shop.declines(2)
        await shop.authorizations(3, capture_share=0.7)
        await poll_and_drain()
        await shop.settle()
        await shop.refunds(2)
        await shop.sales(6)
        await poll_and_drain()
        await shop.voids(2)  # their lines were already (shadow-)written: they are removed
        await poll_and_drain()
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*running)
    return shop


async def test_shadow_mode_reports_every_would_be_write_and_sends_none(tmp_path):
    async with sandboxes(tmp_path) as stage:
        d365 = stage.d365.state
        lines_before = len(d365.store.table("CustomerPaymentJournalLines").records)
        container = build(shadow_settings(tmp_path, stage))
        try:
            shop = await a_shadow_day(container, stage)
            day = container.clock.now().astimezone(ZoneInfo("America/Los_Angeles")).date()
            expected = await paytrace_says(shop, day)
            writes = await shadow_writes(container.database)
        finally:
            await container.aclose()
        assert d365.stats.write_requests == 0 and d365.stats.batches == 0
        assert len(d365.store.table("CustomerPaymentJournalLines").records) == lines_before
        assert d365.stats.odata_requests > 0  # D365 was read ($metadata, lookups)

    lines = [w for w in writes if w.kind == "line"]
    removals = [w for w in writes if w.kind == "removal"]
    voided = {payment_reference(str(t), LedgerOperation.PAYMENT) for t in shop.traffic.voids}
    assert sorted(w.target_reference for w in removals) == sorted(voided)
    assert {w.reference: (w.credit or -w.debit) for w in lines} == {
        **expected,
        **{ref: next(w.credit for w in lines if w.reference == ref) for ref in voided},
    }
    assert len(lines) == len({w.reference for w in lines})  # each line once
    assert all(w.journal_batch_number.startswith("SHADOW-") and w.line_number for w in lines)
    assert all(w.payload["PaymentReference"] == w.reference for w in lines)
    [totals] = shadow_totals(writes).values()
    assert totals.net_credit == sum(expected.values())
    orders = [w for w in writes if w.kind == "order update"]
    assert {w.payload["SalesOrderNumber"] for w in orders} and all(
        w.payload.get("PaymentStatus") for w in orders
    )

    (tmp_path / "payledger.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "payledger.db"}"\n[logging]\nfile = ""\n'
    )
    report = subprocess.run(
        [*PAYLEDGER, "shadow", "report", "--csv", "shadow.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert report.returncode == 0, report.stderr
    assert "would-be D365 writes" in report.stdout
    assert f"{totals.net_credit:,.2f}" in report.stdout
    assert f"wrote {len(writes)} row(s) to shadow.csv" in report.stdout
    with (tmp_path / "shadow.csv").open() as sheet:
        rows = list(csv.DictReader(sheet))
    assert [row["reference"] for row in rows] == [w.reference for w in writes]
    by_reference = {row["reference"]: row for row in rows}
    for reference, amount in expected.items():
        row = by_reference[reference]
        assert Decimal(row["credit"] or f"-{row['debit']}") == amount
        assert row["payload.PaymentReference"] == reference
