"""``payledger bench billing``: N subscriptions due in the same minute, billed through faults.

Both sandboxes run in their own processes with the chaos bench's D365 fault model (10% 429,
5% 5xx, 2% committed but never answered) and a lighter one at PayTrace (5% 429, 3% 5xx, 1%
charges made but never answered). payledger's worker processes (the real container and job
handlers, :mod:`payledger.bench.billing_worker`) run the billing job, the payment posting
and the journal flushes; this process keeps billing runs queued until every period is done,
and with ``chaos`` SIGKILLs workers along the way and starts new ones.

The proof is read from the sandboxes, not from payledger's tables: per period, the free-text
invoices in D365 that carry its key, the approved PayTrace sales of that invoice, and the D365
payment lines marking it. More than one of either is a duplicate; none is a missed period.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import jobs, postings, subscription_periods, subscriptions
from payledger.adapters.paytrace import PayTraceEncryptedCard
from payledger.bench.billing_proof import BillingProof, judge
from payledger.bench.billing_setup import (
    BillingWorkers,
    bench_config,
    paytrace_counts,
    read_paytrace,
    set_paytrace_faults,
)
from payledger.bench.chaos import FAULTS
from payledger.bench.sandbox_process import (
    SandboxProcess,
    d365_sandbox_process,
    paytrace_sandbox_process,
)
from payledger.bootstrap import Container, build
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS
from payledger.config import load_settings
from payledger.domain.errors import TransientError
from payledger.domain.money import Money
from payledger.domain.subscriptions import Plan, Subscription
from payledger.domain.subscriptions_billing import UNFINISHED
from payledger.domain.subscriptions_periods import BillingSchedule, Interval
from payledger.engine.jobs import NewJob
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.stores.subscriptions import subscription_values

D365_FAULTS = {**FAULTS, "hang_s": 3}
"""The chaos bench's model. ``hang_s`` goes as a JSON integer: the D365 sandbox's control API
reads JSON numbers with a fraction as Decimal, and ``asyncio.sleep(Decimal)`` fails after the
commit, answering 500 instead of hanging (a committed write the client then retries)."""
PAYTRACE_FAULTS = {
    "rate_limit_rate": 0.05,
    "retry_after_s": 1,
    "error_rate": 0.03,
    "error_status": 503,
    "drop_after_commit_rate": 0.01,
    "hang_s": 3,
}
CUSTOMERS = ("US-001", "US-002", "US-003", "US-004", "US-005", "US-006")
"""The sandbox's D365 customers the subscriptions are spread over."""
NO_FAULTS = {"rate_limit_rate": 0, "error_rate": 0, "drop_after_commit_rate": 0}
STALL_SECONDS = 120.0


@dataclass(frozen=True)
class BillingBenchOptions:
    subscriptions: int = 10_000
    workers: int = 2
    chaos: bool = False
    kills: int = 3
    """Workers SIGKILLed during a ``chaos`` run (spread over its progress)."""
    faults: bool = True
    max_per_run: int = 200
    """Periods one billing run claims."""
    concurrency: int = 16
    """Periods one billing run bills at once."""
    runs_per_worker: int = 2
    """Billing runs kept queued per worker process."""
    lease_seconds: float = 60.0
    """How long a run's claim holds a period (a killed worker's periods wait this long)."""
    hold_seconds: float = 300.0
    """How long a charge's hold on its invoice lasts (production: 5 minutes): a killed
    worker's charges in flight keep their invoices from being charged again that long."""
    vault_customers: int = 20
    seed: int = 1
    within: float | None = None


@dataclass
class BillingBenchResult:
    backend: str
    options: BillingBenchOptions
    seconds: float = 0.0
    kills: int = 0
    d365_requests: int = 0
    paytrace_requests: int = 0
    proof: BillingProof = field(default_factory=BillingProof)
    d365_faults: dict[str, int] = field(default_factory=dict)
    paytrace_faults: dict[str, int] = field(default_factory=dict)
    billing_runs: int = 0
    gave_up: str = ""
    """Why the bench stopped waiting before every period was done ("" if it was not)."""

    @property
    def ok(self) -> bool:
        return self.proof.ok and not self.gave_up

    def per_subscription(self, requests: int) -> float:
        return requests / self.options.subscriptions if self.options.subscriptions else 0.0


async def run_billing_bench(
    workdir: Path, database_url: str, backend: str, options: BillingBenchOptions
) -> BillingBenchResult:
    """Seed, bill every period through faults (and kills), then judge from the sandboxes."""
    result = BillingBenchResult(backend, options)
    with d365_sandbox_process(workdir) as d365, paytrace_sandbox_process(workdir) as paytrace:
        config = bench_config(workdir, database_url, d365, paytrace)
        container = build(load_settings(config))
        try:
            ids = await _seed(container, options)
            await _bill(container, config, d365, paytrace, options, result)
            await asyncio.to_thread(_quiet, d365, paytrace)
            keys = [f"SUB-{sub_id}-P0" for sub_id in ids]
            invoices = await asyncio.to_thread(d365.rows, "FreeTextInvoiceHeaders")
            lines = await asyncio.to_thread(d365.rows, "CustomerPaymentJournalLines")
            transactions = await asyncio.to_thread(read_paytrace, paytrace)
            for name, rows in (
                ("d365-free-text-invoices", invoices),
                ("d365-payment-lines", lines),
                ("paytrace-transactions", transactions),
            ):  # for a post-mortem (--keep)
                (workdir / f"{name}.json").write_text(json.dumps(rows, default=str))
            result.proof = judge(
                keys,
                invoices,
                lines,
                transactions,
                key_field=container.settings.subscriptions.invoice_key_field,
            )
        finally:
            await container.aclose()
    return result


def _quiet(d365: SandboxProcess, paytrace: str) -> None:
    d365.set_faults(**NO_FAULTS)
    set_paytrace_faults(paytrace, NO_FAULTS)


async def _seed(container: Container, options: BillingBenchOptions) -> list[int]:
    """Vault customers at PayTrace and N subscriptions due now (inserted in bulk)."""
    await migrate(container.database)
    await container.prepare()
    await container.vault.set("paytrace-password", "demo123", actor="bench")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="bench")
    client = await container.paytrace_client()
    card = PayTraceEncryptedCard(
        encrypted_number=encrypt_field(TEST_CARD_NUMBERS[0]),
        expiration_month=12,
        expiration_year=2030,
    )
    vault = [f"bench-sub-{n:03d}" for n in range(options.vault_customers)]
    for customer in vault:
        created = await client.create_customer(customer, card=card)
        if not created.success:
            raise RuntimeError(f"PayTrace refused vault customer {customer}")
    timezone = container.settings.subscriptions.timezone
    now = container.clock.now()
    today = now.astimezone(ZoneInfo(timezone)).date()
    schedule = BillingSchedule(today, Interval(), timezone)
    rows = []
    for n in range(options.subscriptions):
        subscription = Subscription(
            customer_account=CUSTOMERS[n % len(CUSTOMERS)],
            vault_customer_id=vault[n % len(vault)],
            plan=Plan(Money(Decimal(1_000 + n % 9_000).scaleb(-2), "USD"), f"Plan {n % 7}"),
            schedule=schedule,
        )
        rows.append(
            {
                **subscription_values(subscription),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with container.database.transaction() as conn:
        for start in range(0, len(rows), 1_000):
            await conn.execute(subscriptions.insert(), rows[start : start + 1_000])
        found = await conn.execute(select(subscriptions.c.id).order_by(subscriptions.c.id))
        return [int(sub_id) for sub_id in found.scalars()]


@dataclass(frozen=True)
class _Progress:
    done: int
    """Periods charged, declined or failed."""
    open: int
    """Periods claimed and unfinished, or subscriptions still due."""
    owed: int
    """Payment lines not yet in D365."""
    busy: int
    """Jobs pending or running."""
    runs: int
    """Billing runs pending or running."""


async def _progress(container: Container, now: datetime) -> _Progress:
    p, s = subscription_periods, subscriptions
    unfinished = [status.value for status in UNFINISHED]
    async with container.database.transaction() as conn:
        done = await conn.scalar(select(func.count()).where(p.c.status.not_in(unfinished)))
        claimed = await conn.scalar(select(func.count()).where(p.c.status.in_(unfinished)))
        due = await conn.scalar(select(func.count()).where(s.c.next_due_at <= now))
        owed = await conn.scalar(
            select(func.count()).where(postings.c.state.in_(("planned", "sending", "unknown")))
        )
        active = jobs.c.status.in_(("pending", "running"))
        busy = await conn.scalar(select(func.count()).where(active))
        runs = await conn.scalar(
            select(func.count()).where(active, jobs.c.kind == BILL_SUBSCRIPTIONS)
        )
    return _Progress(
        int(done or 0), int(claimed or 0) + int(due or 0), int(owed or 0), int(busy or 0),
        int(runs or 0),
    )  # fmt: skip


async def _bill(
    container: Container,
    config: Path,
    d365: SandboxProcess,
    paytrace: str,
    options: BillingBenchOptions,
    result: BillingBenchResult,
) -> None:
    before = await asyncio.to_thread(d365.counts)
    paytrace_before = await asyncio.to_thread(paytrace_counts, paytrace)
    if options.faults:
        await asyncio.to_thread(d365.set_faults, **D365_FAULTS)
        await asyncio.to_thread(set_paytrace_faults, paytrace, PAYTRACE_FAULTS)
    crew = BillingWorkers(config, options)
    try:
        await asyncio.to_thread(crew.wait_ready)
        started = time.monotonic()
        result.billing_runs, result.gave_up = await _drive(container, crew, options)
        result.seconds = time.monotonic() - started
    finally:
        crew.stop()
        result.kills = crew.kills
    after = await asyncio.to_thread(d365.counts)
    paytrace_after = await asyncio.to_thread(paytrace_counts, paytrace)
    result.d365_requests = after.get("requests", 0) - before.get("requests", 0)
    result.paytrace_requests = paytrace_after.get("requests", 0) - paytrace_before.get(
        "requests", 0
    )
    result.d365_faults, result.paytrace_faults = after, paytrace_after


async def _drive(
    container: Container, crew: BillingWorkers, options: BillingBenchOptions
) -> tuple[int, str]:
    """Keep billing runs queued until every period is done and its payment posted; kill
    workers along the way in a chaos run. Returns the billing runs enqueued, and why it gave
    up ("" when all is done)."""
    rng = random.Random(options.seed)
    total = options.subscriptions
    kill_at = (
        [int(total * (k + 1) / (options.kills + 1)) for k in range(options.kills)]
        if options.chaos
        else []
    )
    want_runs = options.workers * options.runs_per_worker
    # a period takes about 0.7 s at two workers under the fault model; periods whose charge a
    # killed worker held wait for the hold to lapse
    patience = options.hold_seconds + options.lease_seconds + STALL_SECONDS
    within = options.within or patience + total * 1.5
    deadline, enqueued = time.monotonic() + within, 0
    last, moved = None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            progress = await _progress(container, container.clock.now())
        except TransientError:
            await asyncio.sleep(0.2)  # SQLite under load: a busy writer lock
            continue
        if progress != last:
            last, moved = progress, time.monotonic()
        elif time.monotonic() - moved > patience:
            return enqueued, f"nothing moved for {patience:.0f} s: {progress}"
        while kill_at and progress.done >= kill_at[0]:
            kill_at.pop(0)
            await asyncio.to_thread(crew.kill_one, rng)
        if progress.done >= total and progress.owed == 0 and progress.busy == 0 and not kill_at:
            return enqueued, ""
        if progress.open and progress.runs < want_runs:
            more = want_runs - progress.runs
            async with container.database.transaction() as conn:
                await container.queue.enqueue_many(conn, [NewJob(BILL_SUBSCRIPTIONS)] * more)
            enqueued += more
        await asyncio.sleep(0.25)
    return enqueued, f"not done within {within:.0f} s: {last}"
