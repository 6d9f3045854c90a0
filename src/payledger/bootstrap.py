"""The composition root: builds every concrete part from the settings and wires them.

Nothing else constructs engines, clients or workers; the CLI and the web app ask for a
:class:`Container` and use what it holds. It also owns the map from job kind to handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from payledger.adapters.d365 import (
    AdfsCredential,
    D365Client,
    D365EntitySets,
    D365Ledger,
    EntraIdCredential,
)
from payledger.adapters.d365 import D365Settings as LedgerSettings
from payledger.adapters.d365.auth import D365Credential
from payledger.adapters.d365.catalog import entities_from_metadata
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.adapters.d365.shadow import ShadowLedger
from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.paytrace import PayTraceClient, PayTracePaths
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.adapters.vault import DatabaseSecretProvider, MasterKeyStore, SecretNotFound
from payledger.alerts import AlertCenter, watch_batch_handlers, watch_handlers
from payledger.alerts.wiring import build_alert_center, register_alerts
from payledger.bootstrap_api import register_business_events
from payledger.bootstrap_orders import register_orders
from payledger.bootstrap_reconcile import register_reconciliation
from payledger.bootstrap_sync import register_customer_sync
from payledger.bootstrap_webhooks import paytrace_deliveries, register_webhook_fetches
from payledger.config import Settings
from payledger.domain.clock import Clock, SystemClock
from payledger.domain.codec import payment_from_dict
from payledger.domain.errors import DomainError, MappingError
from payledger.domain.model import Payment
from payledger.domain.posting import PostingState
from payledger.engine.idempotency import IdempotencyKeys
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import BatchHandler, Handler, Job
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.engine.retry import Backoff
from payledger.engine.schedule import Schedule, Scheduler
from payledger.engine.worker import Worker, WorkerOptions, stop_requested, worker_name
from payledger.flows.poll_payments import PollPayments, poll_payments
from payledger.flows.post_journals import FlushJournals, FlushResult, flush_journals
from payledger.flows.post_payment import PostingRules, PostingTemplates, post_payment
from payledger.mapping import StaticCatalog, Template, compile_template, paytrace_entities
from payledger.stores.deliveries import SqlDeliveryLog
from payledger.stores.payment_events import PROCESS_PAYMENT, SqlPaymentEventStore
from payledger.stores.postings import FLUSH_JOURNALS, SqlPostingStore, flush_job
from payledger.templates import load_templates, template_settings

log = structlog.get_logger(__name__)

POLL_PAYTRACE = "paytrace.poll"

SCHEDULER_INTERVAL_SECONDS = 15.0


@dataclass
class Container:
    """Everything a running payledger process needs, built once."""

    settings: Settings
    clock: Clock
    database: Database
    queue: Queue
    inbox: Inbox
    idempotency: IdempotencyKeys
    vault: DatabaseSecretProvider
    metrics: EngineMetrics
    alerts: AlertCenter
    """Operator alerts: ``await container.alerts.notify(key, title, text, facts=...)``."""
    handlers: dict[str, Handler] = field(default_factory=dict)
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    """Kinds whose jobs a worker hands over a claim round at a time (see ``BatchHandler``)."""
    priority_kinds: list[str] = field(default_factory=list)
    """Kinds a worker claims ahead of older jobs of other kinds."""
    schedules: list[Schedule] = field(default_factory=list)
    _paytrace: PayTraceClient | None = None
    _d365: D365Client | None = None
    _posting_ledger: D365PostingLedger | ShadowLedger | None = None
    _posting_templates: PostingTemplates | None = None

    async def paytrace_client(self) -> PayTraceClient:
        """The PayTrace connector, with its password fetched from the vault."""
        if self._paytrace is None:
            pt = self.settings.paytrace
            password = await self.vault.get(pt.password_secret)
            if self._paytrace is None:  # a concurrent first caller may have built it
                self._paytrace = PayTraceClient(
                    pt.base_url,
                    pt.username,
                    password.get_secret_value(),
                    pt.integrator_id,
                    timeout=pt.timeout_seconds,
                    vendor_timezone=pt.timezone,
                    currency=pt.currency,
                    correlation_field=pt.correlation_field or None,
                    paths=PayTracePaths(check_export=pt.check_export_path),
                    clock=self.clock,
                )
        return self._paytrace

    async def payment_lookup(self) -> PayTraceGateway:
        """PayTrace as a ``PaymentLookup``: a payment's current state by transaction id."""
        return PayTraceGateway(await self.paytrace_client())

    def paytrace_deliveries(self) -> SqlDeliveryLog:
        """Signed deliveries of ``POST /webhooks/paytrace``, remembered for the replay window;
        their hints go to the inbox with a ``paytrace.fetch_hinted`` job each."""
        return paytrace_deliveries(self)

    async def secrets_named(self, names: Sequence[str]) -> dict[str, str]:
        """The values of the vault secrets among ``names`` that exist, by name."""
        found = {}
        for name in names:
            try:
                found[name] = (await self.vault.get(name)).get_secret_value()
            except SecretNotFound:
                continue
        return found

    async def daily_payments(self) -> PayTraceGateway:
        """PayTrace as a ``DailyPaymentSource``: one day's exports at a time (backfill)."""
        return PayTraceGateway(await self.paytrace_client())

    async def d365_client(self) -> D365Client:
        """The D365 connector, authenticated with the client secret from the vault."""
        if self._d365 is None:
            d = self.settings.d365
            secret = (await self.vault.get(d.client_secret_secret)).get_secret_value()
            if self._d365 is not None:  # a concurrent first caller built it meanwhile
                return self._d365
            verify: Any = ssl.create_default_context(cafile=str(d.ca_file)) if d.ca_file else True
            resource = d.resource or d.base_url
            credential: D365Credential
            if d.auth == "adfs":
                credential = AdfsCredential(
                    adfs_url=d.adfs_url,
                    client_id=d.client_id,
                    client_secret=secret,
                    resource=resource,
                    verify=verify,
                )
            else:
                credential = EntraIdCredential(
                    tenant=d.tenant,
                    client_id=d.client_id,
                    resource=resource,
                    client_secret=secret,
                    authority_host=d.authority_host,
                    verify=verify,
                )
            self._d365 = D365Client(
                d.base_url,
                credential,
                verify=verify,
                timeout=d.timeout_seconds,
                read_only=self.shadow_mode,
            )
        return self._d365

    async def d365_ledger(self) -> D365Ledger:
        d = self.settings.d365
        ledger_settings = LedgerSettings(
            company=d.company,
            entity_sets=D365EntitySets(**d.entity_sets.model_dump()),
            payment_journal_name=d.payment_journal_name,
            general_journal_name=d.general_journal_name,
            customer_gateway_id_field=d.fields.customer_paytrace_id or None,
            order_payment_status_field=d.fields.order_payment_status or None,
        )
        return D365Ledger(await self.d365_client(), ledger_settings)

    @property
    def shadow_mode(self) -> bool:
        """``[posting] mode = "shadow"``: D365 is read, never written."""
        return self.settings.posting.mode == "shadow"

    async def posting_ledger(self) -> D365PostingLedger | ShadowLedger:
        """The posting flows' ledger: D365, or in shadow mode D365 read-only behind a shadow."""
        if self._posting_ledger is None:
            live = D365PostingLedger(
                await self.d365_ledger(), lookup_ttl=self.settings.posting.lookup_ttl_seconds
            )
            self._posting_ledger = ShadowLedger(live) if self.shadow_mode else live
        return self._posting_ledger

    def posting_templates(self) -> PostingTemplates:
        if self._posting_templates is None:
            templates, values = self.templates(), self.template_settings()
            self._posting_templates = PostingTemplates(
                journal_line=compile_template(templates["d365_payment_journal_line"], values),
                order_status=compile_template(templates["d365_order_payment_status"], values),
            )
        return self._posting_templates

    async def schema_catalog(self) -> StaticCatalog:
        """What templates may write: the live D365 ``$metadata`` plus the PayTrace targets."""
        metadata = await (await self.d365_client()).metadata()
        d365_entities = entities_from_metadata(metadata, self.settings.d365.string_lengths)
        return StaticCatalog.of(
            d365_entities, paytrace_entities(self.settings.paytrace.discretionary_titles)
        )

    def templates(self) -> dict[str, Template]:
        return load_templates(self.settings)

    def template_settings(self) -> dict[str, Any]:
        return template_settings(self.settings)

    def worker(
        self,
        *,
        concurrency: int | None = None,
        name: str | None = None,
        kinds: Sequence[str] = (),
    ) -> Worker:
        """A worker for every registered kind of job, or for ``kinds`` only."""
        w = self.settings.worker
        options = WorkerOptions(
            concurrency=concurrency or w.concurrency,
            claim_batch=w.claim_batch,
            lease_seconds=w.lease_seconds,
            poll_interval=w.poll_interval_seconds,
            shutdown_grace=w.shutdown_grace_seconds,
            priority_kinds=tuple(self.priority_kinds),
            kinds=tuple(kinds),
        )
        handlers = watch_handlers(self.handlers, self.alerts)
        return Worker(
            self.queue,
            handlers,
            options=options,
            metrics=self.metrics,
            name=name,
            batch_handlers=watch_batch_handlers(self.batch_handlers, self.alerts),
        )

    def scheduler(self, name: str | None = None) -> Scheduler:
        return Scheduler(self.queue, self.schedules, name=name or worker_name())

    async def prepare(self) -> None:
        """Migrate the embedded SQLite database; PostgreSQL is migrated by ``payledger migrate``."""
        if self.database.is_sqlite:
            await migrate(self.database)

    async def aclose(self) -> None:
        if self._paytrace is not None:
            await self._paytrace.aclose()
        if self._d365 is not None:
            await self._d365.aclose()
            await self._d365.credential.aclose()
        await self.database.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Build the container for ``settings``."""
    clock = clock or SystemClock()
    db_settings = settings.database
    database = Database(
        db_settings.url,
        busy_timeout_ms=db_settings.busy_timeout_ms,
        pool_size=db_settings.pool_size,
    )
    backoff = Backoff(settings.worker.backoff_base_seconds, settings.worker.backoff_cap_seconds)
    queue = Queue(database, clock=clock, backoff=backoff, max_attempts=settings.worker.max_attempts)
    vault = DatabaseSecretProvider(database, MasterKeyStore(settings.vault.key_file), clock)
    container = Container(
        settings=settings,
        clock=clock,
        database=database,
        queue=queue,
        inbox=Inbox(queue),
        idempotency=IdempotencyKeys(
            clock,
            dialect=database.dialect,
            ttl=timedelta(hours=settings.api.idempotency_ttl_hours),
            lease=timedelta(seconds=settings.api.idempotency_lease_seconds),
        ),
        vault=vault,
        metrics=EngineMetrics(),
        alerts=build_alert_center(settings.alerts, queue, vault),
    )
    _register_housekeeping(container)
    register_reconciliation(container)
    register_business_events(container)
    register_webhook_fetches(container)
    register_alerts(container.handlers, container.schedules, container.alerts, settings.alerts)
    if settings.paytrace.enabled:
        _register_paytrace_polling(container)
    if settings.d365.enabled:
        register_posting(container)
    if settings.sync.customers_enabled:
        register_customer_sync(container)
    register_orders(container)
    return container


def _register_housekeeping(container: Container) -> None:
    async def purge_idempotency_keys(_job: Job) -> None:
        async with container.database.transaction() as conn:
            purged = await container.idempotency.purge_expired(conn)
        log.info("idempotency_keys.purged", count=purged)

    container.handlers["maintenance.purge_idempotency_keys"] = purge_idempotency_keys
    container.schedules.append(
        Schedule(
            name="purge-idempotency-keys",
            cron="17 * * * *",
            job_kind="maintenance.purge_idempotency_keys",
        )
    )


def _register_paytrace_polling(container: Container) -> None:
    pt = container.settings.paytrace
    command = PollPayments(
        overlap=timedelta(minutes=pt.poll_overlap_minutes),
        first_lookback=timedelta(hours=pt.first_poll_lookback_hours),
    )

    async def poll(_job: Job) -> None:
        source = PayTraceGateway(await container.paytrace_client())
        store = SqlPaymentEventStore(container.inbox)
        result = await poll_payments(command, source=source, store=store, clock=container.clock)
        log.info("paytrace.polled", seen=result.seen, new=result.new, duplicates=result.duplicates)

    container.handlers[POLL_PAYTRACE] = poll
    container.schedules.append(
        Schedule(
            name="paytrace-poll",
            cron=pt.poll_cron,
            job_kind=POLL_PAYTRACE,
            ordering_key="paytrace-poll",
        )
    )


def register_posting(container: Container) -> None:
    """Payment events become owed postings; flushes write them to D365 in batches."""
    s, d = container.settings, container.settings.d365
    store = SqlPostingStore(
        container.queue,
        flush_wait=timedelta(milliseconds=s.posting.max_wait_ms),
        written_state=PostingState.SHADOW if container.shadow_mode else PostingState.POSTED,
    )
    rules = PostingRules(
        company=d.company,
        timezone=d.timezone,
        fallback_customer_account=d.fallback_customer_account,
        customer_title=s.paytrace.customer_title,
        order_title=s.paytrace.order_title,
    )
    flush = FlushJournals(
        company=d.company,
        journal_name=d.payment_journal_name,
        max_lines=s.posting.max_lines,
        parallel_requests=s.posting.parallel_requests,
        keep_taking_s=s.posting.pipeline_seconds,
        round_s=max(s.posting.max_wait_ms / 1000, 0.05),
    )
    metrics = container.metrics

    async def process_many(jobs: Sequence[Job]) -> dict[int, BaseException | None]:
        """Events of one claim round: one read, flows side by side, one commit."""
        inbox_ids = {job.id: int(job.payload["inbox_id"]) for job in jobs}
        async with container.database.transaction() as conn:
            events = await container.inbox.get_many(conn, list(inbox_ids.values()))
        batch = store.batch()
        templates, ledger = container.posting_templates(), await container.posting_ledger()

        async def one(inbox_id: int) -> Payment:
            event = events.get(inbox_id)
            if event is None:
                raise DomainError(f"inbox event {inbox_id} does not exist")
            payment = payment_from_dict(event["payload"])
            try:
                await post_payment(
                    inbox_id, payment, rules=rules, templates=templates, ledger=ledger, store=batch
                )
            except MappingError as exc:
                await store.mark_event(inbox_id, "parked", str(exc))
                raise
            return payment

        results = await asyncio.gather(
            *(one(inbox_ids[job.id]) for job in jobs), return_exceptions=True
        )
        await batch.commit()
        for result in results:
            if isinstance(result, Payment):
                metrics.payments.labels(result.kind.value, result.outcome.value).inc()
        return {
            job.id: result if isinstance(result, BaseException) else None
            for job, result in zip(jobs, results, strict=True)
        }

    async def process(job: Job) -> None:
        error = (await process_many([job]))[job.id]
        if error is not None:
            raise error

    async def write(job: Job) -> None:
        counted = FlushResult()

        def count(result: FlushResult) -> None:
            if not container.shadow_mode:  # a shadow flush sends nothing
                metrics.ledger_requests.inc(result.requests - counted.requests)
            metrics.postings.labels(store.written_state.value).inc(result.posted - counted.posted)
            metrics.postings.labels("dead").inc(result.dead - counted.dead)
            counted.requests, counted.posted, counted.dead = (
                result.requests,
                result.posted,
                result.dead,
            )

        ledger = await container.posting_ledger()
        count(
            await flush_journals(
                flush, store=store, ledger=ledger, stop_taking=stop_requested, on_round=count
            )
        )
        if await store.planned_count(d.company):
            async with container.database.transaction() as conn:
                now = container.clock.now()
                await container.queue.enqueue(conn, flush_job(d.company, now, timedelta(0)))

    container.handlers[PROCESS_PAYMENT] = process
    container.batch_handlers[PROCESS_PAYMENT] = process_many
    container.handlers[FLUSH_JOURNALS] = write
    container.priority_kinds.append(FLUSH_JOURNALS)


async def run_scheduler(container: Container, stop: asyncio.Event) -> None:
    """Fire due schedule ticks until ``stop`` is set; safe to run in every process."""
    scheduler = container.scheduler()
    while not stop.is_set():
        try:
            async with container.database.transaction() as conn:
                for name, tick in await scheduler.fire_due(conn):
                    log.info("schedule.fired", schedule=name, tick=tick.isoformat())
        except Exception as exc:
            log.warning("schedule.failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCHEDULER_INTERVAL_SECONDS)
