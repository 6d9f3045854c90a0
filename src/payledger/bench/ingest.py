"""``payledger bench ingest``: durable webhook receipts per second against a no-op endpoint on
the same server stack, acknowledgement latency at a steady rate, and the fetch jobs afterwards.

One run per backend: payledger's service in its own process (uvicorn, the real middleware,
no embedded worker) with an extra ``POST /bench/noop``; the PayTrace sandbox in another; the
load from this process (:mod:`payledger.bench.load`). Every webhook names a distinct sandbox
sale, so each 2xx is a new hint row (with its fetch job) committed before the answer.
Throughput rounds alternate no-op and webhook bursts of the same signed bytes, so both see the
same machine. When the load is over and the server stopped, the fetch jobs run here against
the sandbox (a real HTTP call each, in another process), and every hint must have become a
payment in the inbox.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import idempotency_keys, inbox, jobs
from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard
from payledger.bench.load import Build, LoadResult, closed_loop, open_loop, post
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container, build
from payledger.bootstrap.webhooks import FETCH_HINTED, HINT_SOURCE
from payledger.config import load_settings
from payledger.sandbox.paytrace import encrypt_field
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.web.signatures import sign

SECRET = "whsec_" + base64.b64encode(b"payledger-bench-ingest-secret-01").decode()
HOST = "127.0.0.1"
NOOP, WEBHOOK = "/bench/noop", "/webhooks/paytrace"


@dataclass(frozen=True)
class IngestOptions:
    requests: int = 1000
    """Requests per endpoint in each throughput round."""
    rounds: int = 3
    connections: int = 32
    """Concurrent keep-alive connections of the throughput rounds."""
    rate: float = 200.0
    """Requests per second of the latency run."""
    seconds: float = 15.0
    latency_connections: int = 64

    @property
    def transactions(self) -> int:
        return self.requests * self.rounds + int(self.rate * self.seconds)


@dataclass
class Fetches:
    """The fetch jobs run after the load: hints turned into payments."""

    payments: int
    """Payments in the inbox (one per hinted sale) once the jobs are done."""
    hints_processed: int
    hints_parked: int
    jobs_left: int
    """Fetch jobs not done (still pending, or dead)."""
    seconds: float


@dataclass
class IngestResult:
    backend: str
    noop: LoadResult
    webhook: LoadResult
    latency: LoadResult
    hint_rows: int
    delivery_records: int
    fetches: Fetches
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """Server CPU milliseconds per request, by endpoint."""

    def ratio(self, run: LoadResult) -> float:
        """``run``'s rate as a share of the no-op's."""
        return run.per_second / self.noop.per_second if self.noop.per_second else 0.0

    @property
    def acknowledged(self) -> int:
        ok = lambda status: 200 <= status < 300  # noqa: E731
        return sum(run.count(ok) for run in self.webhook_runs)

    @property
    def webhook_runs(self) -> tuple[LoadResult, ...]:
        return (self.webhook, self.latency)


async def seed_sales(paytrace_url: str, count: int, concurrency: int = 16) -> list[int]:
    """``count`` approved sales at the sandbox; their transaction ids."""
    card = PayTraceEncryptedCard(
        encrypted_number=encrypt_field(TEST_CARD_NUMBERS[0]),
        expiration_month=12,
        expiration_year=2030,
    )
    ids: list[int] = []
    async with PayTraceClient(paytrace_url, "demo123", "demo123", "bench") as shop:

        async def sell(n: int) -> None:
            for _ in range(n):
                result = await shop.sale_keyed(Decimal("10.00"), card)
                assert result.transaction_id is not None
                ids.append(result.transaction_id)

        share = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
        await asyncio.gather(*(sell(n) for n in share))
    return ids


def _config(workdir: Path, url: str, paytrace_url: str) -> Path:
    path = workdir / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\npool_size = 20\n'
        f'[vault]\nkey_file = "{workdir / "master.key"}"\n'
        f'[logging]\nfile = "{workdir / "payledger.log"}"\nlevel = "INFO"\n'
        f'[paytrace]\nbase_url = "{paytrace_url}"\nusername = "demo123"\n'
        'integrator_id = "payledger-bench"\n'
        # The sandbox answers in a few ms, so 4 fetches in flight keep it busy; more would
        # only add HTTP-client CPU per request (the default 16 is for a remote PayTrace).
        "[webhooks]\nrefetch_concurrency = 4\n"
    )
    return path


async def _prepare(config: Path) -> None:
    container = build(load_settings(config))
    try:
        await migrate(container.database)
        await container.vault.set("paytrace-password", "demo123", actor="bench")
        await container.vault.set("paytrace-webhook-secret", SECRET, actor="bench")
    finally:
        await container.aclose()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


class Server:
    """``payledger.bench.ingest_server`` on a free port."""

    def __init__(self, config: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "payledger.bench.ingest_server", str(config), str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError("the benchmark server exited")
                try:
                    answer = await http.get(f"http://{HOST}:{self.port}/readyz", timeout=2)
                    if answer.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the benchmark server never became ready")

    def cpu(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


class Requests:
    """Signed hint deliveries, each naming its own sale; the no-op gets the same bytes."""

    def __init__(self, transactions: list[int]) -> None:
        self.transactions = transactions
        self.sent = 0

    def take(self, path: str, count: int) -> list[int]:
        first = self.sent
        if path != NOOP:
            self.sent += count
        return self.transactions[first : first + count]

    def builder(self, path: str, ids: list[int], label: str) -> Build:
        def build(index: int) -> bytes:
            event = {"type": "transaction.created", "data": {"transaction_id": ids[index]}}
            body = json.dumps(event, separators=(",", ":")).encode()
            message_id, stamp = f"msg_bench_{label}_{index}", int(time.time())
            headers = [
                ("webhook-id", message_id),
                ("webhook-timestamp", str(stamp)),
                ("webhook-signature", sign(SECRET, message_id, stamp, body)),
            ]
            return post(path, body, headers, HOST)

        return build


def _merge(results: list[LoadResult]) -> LoadResult:
    merged = LoadResult(requests=0, seconds=0.0)
    for result in results:
        merged.requests += result.requests
        merged.seconds += result.seconds
        merged.latencies += result.latencies
        for status, n in result.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


async def _count(url: str) -> tuple[int, int]:
    """Hint rows and delivery records in the database."""
    database = Database(url)
    try:
        async with database.transaction() as conn:
            rows = await conn.scalar(select(func.count()).where(inbox.c.source == HINT_SOURCE))
            deliveries = await conn.scalar(
                select(func.count()).where(idempotency_keys.c.client == "webhook:paytrace")
            )
    finally:
        await database.dispose()
    return int(rows or 0), int(deliveries or 0)


async def run_fetches(config: Path) -> Fetches:
    """Run every fetch job with a worker as ``payledger worker`` runs them (for that kind
    only: this bench has no D365 for the ``payment.process`` jobs they enqueue)."""
    container = build(load_settings(config))
    started = time.monotonic()
    try:
        await container.worker(kinds=[FETCH_HINTED]).run_until_idle()
        return await _fetch_counts(container, time.monotonic() - started)
    finally:
        await container.aclose()


async def _fetch_counts(container: Container, seconds: float) -> Fetches:
    async with container.database.transaction() as conn:
        payments = await conn.scalar(select(func.count()).where(inbox.c.source == "paytrace"))
        by_status = await conn.execute(
            select(inbox.c.status, func.count())
            .where(inbox.c.source == HINT_SOURCE)
            .group_by(inbox.c.status)
        )
        hints: dict[str, int] = {status: count for status, count in by_status}
        left = await conn.scalar(
            select(func.count()).where(jobs.c.kind == FETCH_HINTED, jobs.c.status != "done")
        )
    return Fetches(
        payments=int(payments or 0),
        hints_processed=int(hints.get("processed", 0)),
        hints_parked=int(hints.get("parked", 0)),
        jobs_left=int(left or 0),
        seconds=seconds,
    )


async def run_ingest(
    workdir: Path,
    url: str,
    backend: str,
    *,
    paytrace_url: str,
    transactions: list[int],
    options: IngestOptions,
) -> IngestResult:
    """One backend's run; ``transactions`` are fresh sandbox sales, at least
    ``options.transactions`` of them."""
    config = _config(workdir, url, paytrace_url)
    await _prepare(config)
    server = Server(config)
    requests = Requests(transactions)
    cpu: dict[str, float] = {NOOP: 0.0, WEBHOOK: 0.0}
    rounds: dict[str, list[LoadResult]] = {path: [] for path in cpu}
    try:
        await server.ready()
        for number in range(options.rounds):
            for path in cpu:
                ids = requests.take(path, options.requests)
                build = requests.builder(path, ids, f"{path.rsplit('/', 1)[1]}{number}")
                before = server.cpu()
                rounds[path].append(
                    await closed_loop(HOST, server.port, build, len(ids), options.connections)
                )
                cpu[path] += server.cpu() - before
        ids = requests.take(WEBHOOK, int(options.rate * options.seconds))
        steady = await open_loop(
            HOST,
            server.port,
            requests.builder(WEBHOOK, ids, "steady"),
            rate=options.rate,
            seconds=options.seconds,
            connections=options.latency_connections,
        )
    finally:
        server.stop()
    hint_rows, deliveries = await _count(url)
    fetches = await run_fetches(config)
    merged = {path: _merge(results) for path, results in rounds.items()}
    return IngestResult(
        backend=backend,
        noop=merged[NOOP],
        webhook=merged[WEBHOOK],
        latency=steady,
        hint_rows=hint_rows,
        delivery_records=deliveries,
        fetches=fetches,
        cpu_ms={
            path: 1000 * seconds / max(merged[path].requests, 1) for path, seconds in cpu.items()
        },
    )
