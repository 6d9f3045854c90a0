"""The demo's day: both sandboxes, payledger on embedded SQLite, faults, and the proof."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from payledger.adapters.db.tables import inbox, postings
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.bootstrap import Container, build
from payledger.config import (
    AlertSmtpSettings,
    AlertsSettings,
    D365Settings,
    DatabaseSettings,
    DunningNoticeSettings,
    DunningSettings,
    LoggingSettings,
    OrderSettings,
    PayTraceSettings,
    PostingSettings,
    Settings,
    VaultSettings,
    WorkerSettings,
)
from payledger.demo.agreement import Agreement, check_agreement
from payledger.demo.day import Shop, Traffic
from payledger.demo.dunning import (
    DunningDemo,
    Outside,
    recover_revenue,
    scan_card_data,
    smtp_server,
)
from payledger.demo.invoices import Collections, charge_invoices, post_the_night
from payledger.demo.reconcile_day import (
    FEE_ACCOUNT,
    DayReconciliation,
    demo_reconcile_settings,
    reconcile_the_day,
)
from payledger.demo.shop_orders import ShopOrders, check_shop_orders, place_shop_orders
from payledger.demo.stage import DISCRETIONARY_TITLES, Stage, sandboxes
from payledger.demo.subscriptions import MonthBoundary, bill_month_boundary, check_month_boundary
from payledger.demo.webhooks import WebhookHour, posted_to_d365, webhook_hour
from payledger.doctor.startup import require_valid_templates
from payledger.domain.events import PaymentObserved
from payledger.engine.jobs import JobStatus
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.stores.payment_events import SqlPaymentEventStore

Say = Callable[[str], None]


@dataclass
class DemoReport:
    traffic: Traffic
    agreement: Agreement
    seconds: float
    events: int = 0
    duplicates: int = 0
    postings: dict[str, int] = field(default_factory=dict)
    declined: int = 0
    dead_jobs: int = 0
    d365_requests: int = 0
    d365_write_requests: int = 0
    shop_orders: ShopOrders | None = None
    reconciliation: DayReconciliation | None = None
    webhooks: WebhookHour | None = None
    collections: Collections | None = None
    subscriptions: MonthBoundary | None = None
    dunning: DunningDemo | None = None


def demo_settings(workdir: Path, stage: Stage, outside: Outside) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{workdir / 'payledger.db'}"),
        vault=VaultSettings(key_file=workdir / "master.key"),
        logging=LoggingSettings(file=workdir / "payledger.log", level="INFO"),
        worker=WorkerSettings(
            concurrency=32,
            poll_interval_seconds=0.05,
            backoff_base_seconds=0.2,
            backoff_cap_seconds=2.0,
            max_attempts=30,
            lease_seconds=15,
        ),
        paytrace=PayTraceSettings(
            base_url=stage.paytrace_url,
            username="demo123",
            integrator_id="payledger-demo",
            discretionary_titles=list(DISCRETIONARY_TITLES),
            timeout_seconds=10,
        ),
        d365=D365Settings(
            enabled=True,
            base_url=stage.d365_url,
            authority_host=stage.d365_url,
            tenant="payledger-sandbox",
            client_id="payledger-client",
            ca_file=stage.certificate,
            fee_account=FEE_ACCOUNT,
            timeout_seconds=10,
            ach_payment_method="ACH",
        ),
        orders=OrderSettings(d365_timeout_seconds=1.0),
        posting=PostingSettings(
            max_lines=100, max_wait_ms=300, parallel_requests=8, post="when_balanced"
        ),
        reconcile=demo_reconcile_settings(),
        alerts=AlertsSettings(
            smtp=AlertSmtpSettings(host="127.0.0.1", port=outside.smtp_port, security="none")
        ),
        dunning=DunningSettings(
            enabled=True,
            notices=DunningNoticeSettings(
                sender="billing@contoso.example",
                merchant_name="Contoso",
                public_base_url=outside.base_url,
                protect_script_url=f"{stage.paytrace_url}/js/protect.min.js",
            ),
        ),
    )


class ShuffledSource:
    """The gateway's events in a scrambled order, as webhooks and retries deliver them."""

    def __init__(self, inner: PayTraceGateway, seed: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.rng = random.Random(seed)

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        events = await self.inner.payments_changed(since, until)
        self.rng.shuffle(events)
        return events


async def run_demo(workdir: Path, say: Say) -> DemoReport:
    started = time.monotonic()
    async with sandboxes(workdir) as stage, smtp_server() as outside:
        container = build(demo_settings(workdir, stage, outside))
        try:
            return await _day(container, stage, outside, say, started)
        finally:
            await container.aclose()


async def _day(
    container: Container, stage: Stage, outside: Outside, say: Say, started: float
) -> DemoReport:
    await container.prepare()
    await container.vault.set("paytrace-password", "demo123", actor="demo")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="demo")
    await require_valid_templates(container)
    workers = [container.worker(name=f"demo-worker-{n}") for n in range(2)]
    running = [asyncio.create_task(worker.run()) for worker in workers]
    paytrace = await container.paytrace_client()
    shop = Shop(paytrace)
    source = ShuffledSource(PayTraceGateway(paytrace), seed=11)
    store = SqlPaymentEventStore(container.inbox)
    command = PollPayments(overlap=timedelta(minutes=30), first_lookback=timedelta(hours=2))
    duplicates = 0

    async def poll() -> None:
        nonlocal duplicates
        result = await poll_payments(command, source=source, store=store, clock=container.clock)
        duplicates += result.duplicates

    faults = stage.d365.state.faults.settings
    try:
        say("morning: 90 card sales, 10 declines, 20 authorizations (12 captured) at PayTrace")
        await shop.sales(90)
        await shop.declines(10)
        await shop.authorizations(20, capture_share=0.6)
        say("6 ACH payments from bank accounts (PayTrace checks), 1 of them not processed (125)")
        await shop.ach_sales(5)
        await shop.ach_declines(1)
        await poll()
        await poll()  # a second look at the same window: everything is a duplicate
        say("D365 goes down; 30 more sales keep arriving and wait in payledger's queue")
        faults.update({"outage": True})
        await shop.sales(30)
        await poll()
        await asyncio.sleep(2)
        faults.update({"outage": False})
        say("D365 is back, then throttles: half of all requests get 429 with Retry-After")
        faults.update({"rate_limit_rate": 0.5, "retry_after_s": 1})
        await shop.sales(20)
        await poll()
        await asyncio.sleep(2)
        faults.update({"rate_limit_rate": 0.0})
        say("afternoon: the batch settles; 15 refunds, 20 more sales, 8 of them voided")
        await shop.settle()
        await shop.refunds(15)
        await shop.sales(20)
        await shop.voids(8)
        say("2 ACH refunds, 2 more ACH payments, 1 of them voided")
        await shop.ach_refunds(2)
        await shop.ach_sales(2)
        await shop.ach_voids(1)
        webhooks = await webhook_hour(container, stage, shop, say)
        orders = await place_shop_orders(container, stage, say)
        collections = await charge_invoices(container, stage, say)
        dunning = await recover_revenue(container, stage, outside, say)
        month = await bill_month_boundary(container, stage, say)
        await poll()
        await poll()
        say("waiting for every event to reach the ledger ...")
        await _drain(container, within=90)
        webhooks.posted_to_d365 = await posted_to_d365(container, webhooks.transactions)
        await check_shop_orders(container, orders, say)
        await check_month_boundary(month, stage)
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*running, return_exceptions=True)
    day = container.clock.now().astimezone(ZoneInfo("America/Los_Angeles")).date()
    agreement = await check_agreement(
        paytrace,
        await container.d365_client(),
        company="usmf",
        day=day,
        ach_payment_method=container.settings.d365.ach_payment_method,
    )
    report = await _report(container, stage, shop.traffic, agreement, duplicates, started)
    report.shop_orders = orders
    report.webhooks = webhooks
    report.subscriptions = month
    report.reconciliation = await reconcile_the_day(container, shop, say)
    await post_the_night(container, collections, say)
    report.collections = collections
    dunning.card_data = await scan_card_data(container, container.settings.logging.file)
    report.dunning = dunning
    return report


async def _owed(container: Container) -> tuple[int, int]:
    async with container.database.transaction() as conn:
        counts = await container.queue.counts(conn)
        owed = await conn.scalar(
            select(func.count()).where(postings.c.state.in_(("planned", "sending", "unknown")))
        )
    return counts[JobStatus.PENDING] + counts[JobStatus.RUNNING], int(owed or 0)


async def _drain(container: Container, *, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        jobs, owed = await _owed(container)
        if jobs == 0 and owed == 0:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the day did not settle within {within:.0f} s")


async def _report(
    container: Container,
    stage: Stage,
    traffic: Traffic,
    agreement: Agreement,
    duplicates: int,
    started: float,
) -> DemoReport:
    async with container.database.transaction() as conn:
        events = await conn.scalar(select(func.count()).select_from(inbox)) or 0
        rows = await conn.execute(
            select(postings.c.state, postings.c.operation, func.count()).group_by(
                postings.c.state, postings.c.operation
            )
        )
        states: dict[str, int] = {}
        for state, operation, count in rows:
            kind = "order" if operation.startswith("order:") else operation
            states[f"{state}:{kind}"] = states.get(f"{state}:{kind}", 0) + int(count)
        dead_jobs = (await container.queue.counts(conn))[JobStatus.DEAD]
    metrics = container.metrics.registry
    declined = sum(
        metrics.get_sample_value(
            "payledger_payments_processed_total", {"kind": kind, "outcome": outcome}
        )
        or 0
        for kind in ("sale", "authorization", "ach_sale")
        for outcome in ("soft_decline", "hard_decline")
    )
    return DemoReport(
        traffic=traffic,
        agreement=agreement,
        seconds=time.monotonic() - started,
        events=int(events),
        duplicates=duplicates,
        postings={str(k): int(v) for k, v in states.items()},
        declined=int(declined),
        dead_jobs=dead_jobs,
        d365_requests=stage.d365.state.faults.counts.get("requests", 0),
        d365_write_requests=int(
            metrics.get_sample_value("payledger_ledger_write_requests_total") or 0
        ),
    )
