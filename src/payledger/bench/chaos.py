"""``payledger chaos``: thousands of payments through faults and killed workers, then the proof.

The ERP half of payledger runs as real worker processes against the D365 sandbox in its own
process, with 10% of requests throttled (429), 5% failing (5xx) and 2% committed but never
answered; every payment event arrives one to five times in shuffled order, and worker
processes are SIGKILLed mid-run. Afterwards D365 must hold exactly one line per payment and,
per kind, the same total as the gateway.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import jobs, postings
from payledger.bench.sandbox_process import SandboxProcess, d365_sandbox_process
from payledger.bootstrap import Container, build
from payledger.config import load_settings
from payledger.domain import Money, Payment, PaymentKind, PaymentStatus
from payledger.domain.events import PaymentObserved
from payledger.domain.posting import LedgerOperation, payment_reference
from payledger.stores.payment_events import SqlPaymentEventStore

FAULTS = {
    "rate_limit_rate": 0.10,
    "retry_after_s": 1,
    "error_rate": 0.05,
    "error_status": 503,
    "drop_after_commit_rate": 0.02,
    "hang_s": 3.0,
}


@dataclass
class ChaosResult:
    backend: str
    payments: int
    deliveries: int
    workers: int
    kills: int
    seconds: float
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Per kind: (gateway total, D365 total)."""
    fault_counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.lost and not self.duplicated and all(a == b for a, b in self.totals.values())
        )


def _config(workdir: Path, database_url: str, sandbox: SandboxProcess) -> Path:
    path = workdir / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\nbusy_timeout_ms = 60000\n'
        f'[vault]\nkey_file = "{workdir / "master.key"}"\n'
        f'[logging]\nfile = "{workdir / "payledger.log"}"\nlevel = "WARNING"\n'
        "[worker]\nconcurrency = 32\nlease_seconds = 3\npoll_interval_seconds = 0.05\n"
        "backoff_base_seconds = 0.1\nbackoff_cap_seconds = 1.0\nmax_attempts = 100\n"
        "shutdown_grace_seconds = 5\n"
        f'[d365]\nenabled = true\nbase_url = "{sandbox.url}"\nauthority_host = "{sandbox.url}"\n'
        'tenant = "payledger-sandbox"\nclient_id = "payledger-client"\n'
        f'ca_file = "{sandbox.certificate}"\ntimeout_seconds = 1\n'
        'fallback_customer_account = "US-001"\n'
        "[posting]\nmax_wait_ms = 200\nmax_lines = 10\nparallel_requests = 4\n"
    )
    return path


def _truth(count: int, rng: random.Random) -> list[Payment]:
    start = datetime.now(UTC) - timedelta(minutes=5)
    sales: list[Payment] = []
    made: list[Payment] = []
    for n in range(count):
        when = start + timedelta(milliseconds=n)
        if sales and rng.random() < 0.2:
            sale = rng.choice(sales)
            amount = Money(
                min(sale.amount.amount, Decimal(rng.randint(100, 5000)).scaleb(-2)), "USD"
            )
            made.append(
                Payment(
                    f"R{n}",
                    PaymentKind.REFUND,
                    PaymentStatus.APPROVED,
                    amount,
                    when,
                    original_txn_id=sale.gateway_txn_id,
                )
            )
            continue
        sale = Payment(
            f"S{n}",
            PaymentKind.SALE,
            PaymentStatus.APPROVED,
            Money(Decimal(rng.randint(500, 90_000)).scaleb(-2), "USD"),
            when,
        )
        sales.append(sale)
        made.append(sale)
    return made


def _deliveries(truth: list[Payment], rng: random.Random) -> list[PaymentObserved]:
    deliveries = [
        PaymentObserved(f"chaos:{p.gateway_txn_id}:{p.kind.value}:approved", p)
        for p in truth
        for _ in range(rng.randint(1, 5))
    ]
    rng.shuffle(deliveries)
    return deliveries


class Workers:
    """Worker processes that can be killed without warning and replaced."""

    def __init__(self, config: Path, count: int) -> None:
        self.config = config
        self.procs = [self._start() for _ in range(count)]
        self.kills = 0

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "payledger.cli.main", "-c", str(self.config), "worker"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.procs))
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait()
        self.procs[index] = self._start()
        self.kills += 1

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=60)


async def _progress(container: Container) -> tuple[int, int, int]:
    async with container.database.transaction() as conn:
        posted = await conn.scalar(select(func.count()).where(postings.c.state == "posted")) or 0
        owed = (
            await conn.scalar(
                select(func.count()).where(postings.c.state.in_(("planned", "sending", "unknown")))
            )
            or 0
        )
        busy = (
            await conn.scalar(select(func.count()).where(jobs.c.status.in_(("pending", "running"))))
            or 0
        )
    return int(posted), int(owed), int(busy)


async def run_chaos(
    workdir: Path,
    database_url: str,
    backend: str,
    *,
    payments: int,
    workers: int = 3,
    kills: int = 3,
    seed: int = 1,
    within: float | None = None,
) -> ChaosResult:
    rng = random.Random(seed)
    within = within or 120 + payments * 0.15
    truth = _truth(payments, rng)
    deliveries = _deliveries(truth, rng)
    started = time.monotonic()
    with d365_sandbox_process(workdir) as sandbox:
        config = _config(workdir, database_url, sandbox)
        container = build(load_settings(config))
        try:
            await migrate(container.database)
            await container.prepare()
            await container.vault.set("d365-client-secret", "payledger-secret", actor="chaos")
            sandbox.set_faults(**FAULTS)
            crew = Workers(config, workers)
            try:
                await _feed_and_kill(container, crew, deliveries, payments, kills, rng, within)
            finally:
                crew.stop()
            sandbox.set_faults(rate_limit_rate=0, error_rate=0, drop_after_commit_rate=0)
            fault_counts = sandbox.counts()
            lines = sandbox.rows("CustomerPaymentJournalLines")
            (workdir / "d365-lines.json").write_text(json.dumps(lines, default=str))
        finally:
            await container.aclose()
    result = _judge(
        truth, lines, backend, len(deliveries), workers, crew.kills, time.monotonic() - started
    )
    result.fault_counts = fault_counts
    return result


async def _feed_and_kill(
    container: Container,
    crew: Workers,
    deliveries: list[PaymentObserved],
    payments: int,
    kills: int,
    rng: random.Random,
    within: float,
) -> None:
    store = SqlPaymentEventStore(container.inbox)
    chunk = 200  # short write transactions: SQLite writers queue for one lock
    for start in range(0, len(deliveries), chunk):
        await store.record(
            "chaos", deliveries[start : start + chunk], watermark=("chaos", datetime.now(UTC))
        )
    lines_expected = payments
    kill_at = [int(lines_expected * (k + 1) / (kills + 1)) for k in range(kills)]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        posted, owed, busy = await _progress(container)
        while kill_at and posted >= kill_at[0]:
            kill_at.pop(0)
            crew.kill_one(rng)
        if posted >= lines_expected and owed == 0 and busy == 0:
            return
        if not kill_at and owed == 0 and busy == 0 and posted > 0:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"chaos run did not settle within {within:.0f} s")


def _judge(
    truth: list[Payment],
    lines: list[dict[str, object]],
    backend: str,
    deliveries: int,
    workers: int,
    kills: int,
    seconds: float,
) -> ChaosResult:
    counted = Counter(str(row.get("PaymentReference", "")) for row in lines)
    result = ChaosResult(
        backend=backend,
        payments=len(truth),
        deliveries=deliveries,
        workers=workers,
        kills=kills,
        seconds=seconds,
    )
    result.duplicated = sorted(ref for ref, n in counted.items() if ref.startswith("PT-") and n > 1)
    totals: dict[str, list[Decimal]] = {
        "sale": [Decimal(0), Decimal(0)],
        "refund": [Decimal(0), Decimal(0)],
    }
    by_reference = {str(row.get("PaymentReference")): row for row in lines}
    for payment in truth:
        operation = (
            LedgerOperation.PAYMENT if payment.kind is PaymentKind.SALE else LedgerOperation.REFUND
        )
        reference = payment_reference(payment.gateway_txn_id, operation)
        totals[payment.kind.value][0] += payment.amount.amount
        row = by_reference.get(reference)
        if row is None:
            result.lost.append(reference)
            continue
        column = "CreditAmount" if operation is LedgerOperation.PAYMENT else "DebitAmount"
        totals[payment.kind.value][1] += Decimal(str(row[column]))
    result.totals = {kind: (pair[0], pair[1]) for kind, pair in totals.items()}
    return result
