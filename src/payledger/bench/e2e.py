"""``payledger bench e2e``: the payment-posting pipeline against the D365 sandbox, measured.

The D365 sandbox runs in its own process (the machine's cores split as in production) with the
documented latency model, :func:`payledger.sandbox.d365.settings.realistic_faults`: every
request holds one of ``C`` capacity slots for ``latency + U(0, jitter) + per_operation · n``
milliseconds, ``n`` being the operations inside it. A request of ``n`` lines therefore costs
``t(n) = latency + jitter/2 + per_operation · n`` on average, and the model's ceiling is
``C · n / t(n)`` payments per second at ``max_lines = n``.

payledger runs in this process on the real container (inbox, queue, workers, posting store,
D365 connector), fed canonical payment events directly: the bench measures the ERP half.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import resource
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from sqlalchemy import ColumnElement, and_, func, select

from payledger import tracing
from payledger.adapters.db.migrate import migrate
from payledger.adapters.db.tables import inbox, journals, postings
from payledger.bench.sandbox_process import SandboxProcess, d365_sandbox_process
from payledger.bootstrap import Container, build
from payledger.config import (
    D365Settings,
    DatabaseSettings,
    LoggingSettings,
    PostingSettings,
    Settings,
    TracingSettings,
    VaultSettings,
    WorkerSettings,
)
from payledger.doctor.startup import require_valid_templates
from payledger.domain import (
    ConfigError,
    Money,
    Payment,
    PaymentKind,
    PaymentStatus,
    TransientError,
)
from payledger.domain.events import PaymentObserved
from payledger.domain.posting import LedgerOperation, PostingState, payment_reference
from payledger.mapping import source_document
from payledger.sandbox.d365.settings import realistic_faults
from payledger.sandbox.faults import FaultSettings
from payledger.stores.payment_events import SqlPaymentEventStore
from payledger.tracing.setup import build_provider

LATENCY_MODEL = realistic_faults()
"""The latency model every figure is measured under (and the ceiling is computed from)."""
CUSTOMER_ACCOUNT = "US-001"
STALL_SECONDS = 30.0
"""A run stops waiting when no event was processed and no line posted for this long."""


def mean_service_ms(model: FaultSettings, lines: int) -> float:
    """``t(n)``: mean time one request of ``lines`` operations holds a capacity slot."""
    return model.latency_ms + model.jitter_ms / 2 + model.per_operation_ms * lines


def ceiling_per_second(model: FaultSettings, lines: int) -> float:
    """``C · n / t(n)``: payments per second with every slot busy on full requests."""
    return model.capacity * lines * 1000 / mean_service_ms(model, lines)


@dataclass(frozen=True)
class E2EOptions:
    """Sizes of the three runs and the ``[posting]``/``[worker]`` settings they use."""

    payments: int = 5_000
    naive: int = 200
    rate: float = 100.0
    seconds: float = 20.0
    max_lines: int = 100
    max_wait_ms: int = 500
    parallel: int = LATENCY_MODEL.capacity
    workers: int = 2
    concurrency: int = 64
    postgres_url: str | None = None
    tracing: bool = False
    """Trace the run (SDK provider, every span scrubbed and handed to a counting exporter)."""


@dataclass(frozen=True)
class E2EPhase:
    """One measured run of the pipeline."""

    events: int
    posted: int
    seconds: float
    requests: int
    cpu_seconds: float
    latencies: tuple[float, ...] = ()
    """Per payment, posted_at - received_at in seconds, sorted."""
    processing_seconds: float = math.nan
    """From the first record to the last event turned into owed lines."""

    @property
    def per_second(self) -> float:
        return self.posted / self.seconds if self.seconds else 0.0

    @property
    def requests_per_payment(self) -> float:
        return self.requests / self.posted if self.posted else math.inf

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies (q in 0..1)."""
        if not self.latencies:
            return math.nan
        return self.latencies[max(math.ceil(q * len(self.latencies)) - 1, 0)]


@dataclass(frozen=True)
class E2EResult:
    options: E2EOptions
    backend: str
    naive: E2EPhase
    throughput: E2EPhase
    latency: E2EPhase
    peak_rss_mb: float
    concurrency_limit: tuple[float, float] = (math.nan, math.nan)
    """The D365 connector's adaptive limit on requests in flight, before and after the
    at-once run (it starts at 4 and grows with each success)."""
    spans: int | None = None
    """Spans exported, when the run was traced."""

    @property
    def ceiling(self) -> float:
        return ceiling_per_second(LATENCY_MODEL, self.options.max_lines)

    @property
    def all_posted(self) -> bool:
        phases = (self.naive, self.throughput, self.latency)
        return all(phase.posted == phase.events for phase in phases)


def bench_settings(workdir: Path, sandbox: SandboxProcess, options: E2EOptions) -> Settings:
    return Settings(
        database=DatabaseSettings(
            url=options.postgres_url or f"sqlite:///{workdir / 'payledger.db'}"
        ),
        vault=VaultSettings(key_file=workdir / "master.key"),
        logging=LoggingSettings(file=workdir / "payledger.log", level="WARNING"),
        worker=WorkerSettings(
            concurrency=options.concurrency,
            poll_interval_seconds=0.05,
            backoff_base_seconds=0.2,
            backoff_cap_seconds=2.0,
            max_attempts=20,
        ),
        d365=D365Settings(
            enabled=True,
            base_url=sandbox.url,
            authority_host=sandbox.url,
            tenant="payledger-sandbox",
            client_id="payledger-client",
            ca_file=sandbox.certificate,
            timeout_seconds=30,
            fallback_customer_account=CUSTOMER_ACCOUNT,
        ),
        posting=PostingSettings(
            max_lines=options.max_lines,
            max_wait_ms=options.max_wait_ms,
            parallel_requests=options.parallel,
        ),
    )


async def run_e2e(workdir: Path, options: E2EOptions) -> E2EResult:
    """Naive writes, then N events at once, then a steady ``rate`` for ``seconds``."""
    tag = uuid.uuid4().hex[:4]
    counter = _CountingExporter()
    with d365_sandbox_process(workdir) as sandbox, _traced(options.tracing, counter):
        await asyncio.to_thread(sandbox.set_faults, **_model_settings())
        container = build(bench_settings(workdir, sandbox, options))
        try:
            await _prepare(container)
            naive = await _naive(container, sandbox, options.naive, tag)
            limiter = (await container.d365_client()).credential.limiter
            limit_before = limiter.limit
            async with _workers(container, options):
                throughput = await _throughput(container, sandbox, options.payments, tag)
                limit_after = limiter.limit
                latency = await _steady(container, sandbox, options, tag)
        finally:
            await container.aclose()
    return E2EResult(
        options=options,
        backend=container.database.dialect,
        naive=naive,
        throughput=throughput,
        latency=latency,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        concurrency_limit=(limit_before, limit_after),
        spans=counter.spans if options.tracing else None,
    )


class _CountingExporter(SpanExporter):
    """Counts the spans it is handed and keeps none: the cost measured is payledger's."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


@contextlib.contextmanager
def _traced(on: bool, exporter: SpanExporter) -> Iterator[None]:
    """With ``on``, trace the run as ``serve`` and ``worker`` would, spans batched in the
    background; the provider is shut down (its last spans exported) before figures are read."""
    if not on:
        yield
        return
    settings = TracingSettings(enabled=True, exporter="none")
    provider = build_provider(settings, role="bench", exporter=exporter)
    tracing.install(provider)
    try:
        yield
    finally:
        tracing.install(None)
        provider.shutdown()


def _model_settings() -> dict[str, float]:
    return {
        "latency_ms": LATENCY_MODEL.latency_ms,
        "jitter_ms": LATENCY_MODEL.jitter_ms,
        "per_operation_ms": LATENCY_MODEL.per_operation_ms,
        "capacity": LATENCY_MODEL.capacity,
    }


async def _prepare(container: Container) -> None:
    await migrate(container.database)
    await container.prepare()
    async with container.database.transaction() as conn:
        used = await conn.scalar(select(func.count()).select_from(postings)) or 0
        used += await conn.scalar(select(func.count()).select_from(journals)) or 0
    if used:
        raise ConfigError("the bench needs an empty database (it has postings or journals)")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="bench")
    await require_valid_templates(container)


async def _requests(sandbox: SandboxProcess) -> int:
    """OData requests the sandbox admitted so far (the token endpoint is not counted)."""
    counts = await asyncio.to_thread(sandbox.counts)
    return counts.get("requests", 0)


def _payments(tag: str, phase: str, count: int) -> list[Payment]:
    now = datetime.now(UTC)
    return [
        Payment(
            f"B{tag}{phase}{n}",
            PaymentKind.SALE,
            PaymentStatus.APPROVED,
            Money(Decimal(1_000 + n % 9_000).scaleb(-2), "USD"),
            now,
        )
        for n in range(count)
    ]


def _events(payments: list[Payment]) -> list[PaymentObserved]:
    return [PaymentObserved(f"bench:{p.gateway_txn_id}:approved", p) for p in payments]


async def _naive(container: Container, sandbox: SandboxProcess, count: int, tag: str) -> E2EPhase:
    """One journal, then one POST per payment, sequentially: no batching, no parallelism."""
    ledger = await container.d365_ledger()
    client = await container.d365_client()
    template = container.posting_templates().journal_line
    header = await ledger.create_payment_journal(f"payledger bench naive {tag}")
    before, cpu = await _requests(sandbox), time.process_time()
    started = time.perf_counter()
    for number, payment in enumerate(_payments(tag, "N", count), start=1):
        reference = payment_reference(payment.gateway_txn_id, LedgerOperation.PAYMENT)
        context = {
            "journal_batch_number": header.JournalBatchNumber,
            "line_number": number,
            "operation": LedgerOperation.PAYMENT.value,
            "payment_reference": reference,
        }
        document = source_document(payment, context=context)
        document.setdefault("customer", {})["account"] = CUSTOMER_ACCOUNT
        await client.create(ledger.sets.payment_journal_lines, template.map(document))
    seconds = time.perf_counter() - started
    return E2EPhase(
        events=count,
        posted=count,
        seconds=seconds,
        requests=await _requests(sandbox) - before,
        cpu_seconds=time.process_time() - cpu,
    )


@contextlib.asynccontextmanager
async def _workers(container: Container, options: E2EOptions) -> AsyncIterator[None]:
    workers = [
        container.worker(concurrency=options.concurrency, name=f"bench-worker-{n}")
        for n in range(options.workers)
    ]
    running = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*running, return_exceptions=True)


async def _throughput(
    container: Container, sandbox: SandboxProcess, count: int, tag: str
) -> E2EPhase:
    """``count`` events recorded at once; from the first record to the last line posted."""
    source = f"bench-{tag}-T"
    events = _events(_payments(tag, "T", count))
    before, cpu = await _requests(sandbox), time.process_time()
    started = datetime.now(UTC)
    await SqlPaymentEventStore(container.inbox).record(source, events, watermark=(source, started))
    posted = await _wait_posted(container, source, count)
    requests, cpu = await _requests(sandbox) - before, time.process_time() - cpu
    processed, last = await _last_times(container, source)
    return E2EPhase(
        events=count,
        posted=posted,
        seconds=(last - started).total_seconds() if last else math.inf,
        requests=requests,
        cpu_seconds=cpu,
        processing_seconds=(processed - started).total_seconds() if processed else math.inf,
    )


async def _steady(
    container: Container, sandbox: SandboxProcess, options: E2EOptions, tag: str
) -> E2EPhase:
    """Events at ``rate``/s for ``seconds``, each recorded as it arrives (open loop)."""
    source = f"bench-{tag}-L"
    events = _events(_payments(tag, "L", round(options.rate * options.seconds)))
    store = SqlPaymentEventStore(container.inbox)
    before, cpu = await _requests(sandbox), time.process_time()
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    while sent < len(events):
        due = min(int((loop.time() - start) * options.rate) + 1, len(events))
        if due > sent:
            # Behind schedule, the overdue events arrive together, as a webhook burst would.
            await store.record(source, events[sent:due], watermark=(source, datetime.now(UTC)))
            sent = due
        await asyncio.sleep(max(start + sent / options.rate - loop.time(), 0))
    seconds = loop.time() - start
    posted = await _wait_posted(container, source, len(events))
    requests = await _requests(sandbox) - before
    latencies = await _latencies(container, source)
    return E2EPhase(len(events), posted, seconds, requests, time.process_time() - cpu, latencies)


def _of_source(source: str) -> ColumnElement[bool]:
    """Posted lines of the events ``source`` recorded."""
    return and_(
        postings.c.inbox_id == inbox.c.id,
        inbox.c.source == source,
        postings.c.state == PostingState.POSTED.value,
    )


async def _progress(container: Container, source: str) -> tuple[int, int]:
    """(events of ``source`` processed, their lines posted)."""
    async with container.database.transaction() as conn:
        processed = await conn.scalar(
            select(func.count()).where(inbox.c.source == source, inbox.c.status != "received")
        )
        posted = await conn.scalar(select(func.count()).where(_of_source(source)))
    return int(processed or 0), int(posted or 0)


async def _wait_posted(container: Container, source: str, expected: int) -> int:
    """Posted lines of ``source`` once all are posted, or once nothing moved for a while."""
    progress, moved = (0, 0), time.monotonic()
    while progress[1] < expected and time.monotonic() - moved < STALL_SECONDS:
        await asyncio.sleep(0.25)
        try:
            now = await _progress(container, source)
        except TransientError:
            continue  # SQLite under load: a busy writer lock; look again next time
        if now != progress:
            progress, moved = now, time.monotonic()
    return progress[1]


async def _last_times(container: Container, source: str) -> tuple[datetime | None, datetime | None]:
    """When the last event of ``source`` was processed, and when its last line was posted."""
    async with container.database.transaction() as conn:
        processed: datetime | None = await conn.scalar(
            select(func.max(inbox.c.processed_at)).where(inbox.c.source == source)
        )
        posted: datetime | None = await conn.scalar(
            select(func.max(postings.c.posted_at)).where(_of_source(source))
        )
    return processed, posted


async def _latencies(container: Container, source: str) -> tuple[float, ...]:
    async with container.database.transaction() as conn:
        rows = await conn.execute(
            select(inbox.c.received_at, postings.c.posted_at).where(_of_source(source))
        )
        return tuple(sorted((posted - received).total_seconds() for received, posted in rows))
