"""Wiring of posting: payment events become owed postings; flushes write them to D365."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from payledger.bootstrap.container import Container
from payledger.bootstrap.risk import payment_screen
from payledger.domain.codec import payment_from_dict
from payledger.domain.errors import DomainError, MappingError
from payledger.domain.model import Payment
from payledger.domain.posting import PostingState
from payledger.engine.jobs import BatchHandler, Handler, Job
from payledger.engine.worker import stop_requested
from payledger.flows.post_journals import FlushJournals, FlushResult, flush_journals
from payledger.flows.post_payment import PostingRules, post_payment
from payledger.flows.recognise_schedule_charges import recognise_schedule_charge
from payledger.flows.screen_payment import Verdict, screen_payment
from payledger.stores.postings import PINNED_VERSIONS, SqlPostingStore, flush_job
from payledger.stores.subscription_imports import SqlImportedSubscriptions
from payledger.stores.summary import SqlSummaryStore


def posting_store(container: Container) -> SqlPostingStore:
    return SqlPostingStore(
        container.queue,
        flush_wait=timedelta(milliseconds=container.settings.posting.max_wait_ms),
        written_state=PostingState.SHADOW if container.shadow_mode else PostingState.POSTED,
    )


def posting_rules(container: Container) -> PostingRules:
    s, d = container.settings, container.settings.d365
    return PostingRules(
        company=d.company,
        timezone=d.timezone,
        fallback_customer_account=d.fallback_customer_account,
        customer_title=s.paytrace.customer_title,
        order_title=s.paytrace.order_title,
        summary=s.posting.granularity == "daily_summary",
    )


def process_payments(container: Container) -> BatchHandler:
    """Events of one claim round: one read, flows side by side, one commit."""
    store, rules, metrics = posting_store(container), posting_rules(container), container.metrics
    details = SqlSummaryStore(container.queue) if rules.summary else None
    schedules = SqlImportedSubscriptions(container.database, container.clock)
    screen = payment_screen(container)

    async def process_many(jobs: Sequence[Job]) -> dict[int, BaseException | None]:
        inbox_ids = {job.id: int(job.payload["inbox_id"]) for job in jobs}
        async with container.database.transaction() as conn:
            events = await container.inbox.get_many(conn, list(inbox_ids.values()))
        batch = store.batch()
        templates, ledger = container.posting_templates(), await container.posting_ledger()

        async def one(job: Job) -> Payment:
            inbox_id = inbox_ids[job.id]
            event = events.get(inbox_id)
            if event is None:
                raise DomainError(f"inbox event {inbox_id} does not exist")
            payment = payment_from_dict(event["payload"])
            screening = screen()
            if screening is not None and await screen_payment(inbox_id, payment, screening) in (
                Verdict.HELD,
                Verdict.REJECTED,
            ):
                return payment  # held for review (or rejected): nothing is owed yet
            pins = pinned_versions(job)
            try:
                await post_payment(
                    inbox_id,
                    payment,
                    rules=rules,
                    templates=await container.pinned_posting_templates(pins) if pins else templates,
                    ledger=ledger,
                    store=batch,
                    details=details,
                )
            except MappingError as exc:
                await store.mark_event(inbox_id, "parked", str(exc))
                raise
            if payment.recurring:  # a PayTrace schedule's charge may pay an imported period
                await recognise_schedule_charge(payment, schedules)
            return payment

        results = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
        await batch.commit()
        for result in results:
            if isinstance(result, Payment):
                metrics.payments.labels(result.kind.value, result.outcome.value).inc()
        return {
            job.id: result if isinstance(result, BaseException) else None
            for job, result in zip(jobs, results, strict=True)
        }

    return process_many


def pinned_versions(job: Job) -> dict[str, int]:
    """The template versions a replay asked this job to map with (``--template-version
    original``), by template name; empty: the versions in force."""
    pins = job.payload.get(PINNED_VERSIONS) or {}
    return {str(name): int(version) for name, version in pins.items()}


def process_payment(container: Container) -> Handler:
    """One event alone: a claim round of one."""
    process_many = process_payments(container)

    async def process(job: Job) -> None:
        error = (await process_many([job]))[job.id]
        if error is not None:
            raise error

    return process


def flush_postings(container: Container) -> Handler:
    """Write a company's owed postings to D365; enqueue the next flush if more are owed."""
    d, metrics = container.settings.d365, container.metrics
    store = posting_store(container)
    s = container.settings.posting
    flush = FlushJournals(
        company=d.company,
        journal_name=d.payment_journal_name,
        max_lines=s.max_lines,
        parallel_requests=s.parallel_requests,
        keep_taking_s=s.pipeline_seconds,
        round_s=max(s.max_wait_ms / 1000, 0.05),
    )

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

    return write
