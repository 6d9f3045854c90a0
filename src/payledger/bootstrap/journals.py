"""Wiring of journal posting: the scheduled ``journal.post`` job closes the company's
journals after their day, posts the ready ones as ``[posting] post`` says, and raises the
overdue alerts; operators post one now (CLI, console) through the same parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from payledger.alerts.scans import record_unposted_journals
from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.domain.posting import Journal, PostMode
from payledger.engine.jobs import Handler, Job, NewJob
from payledger.engine.schedule import Schedule
from payledger.flows.ports import JournalPoster, JournalReadback
from payledger.flows.post_ready_journals import (
    Parts,
    PostJournals,
    PostOutcome,
    approve_and_post,
    close_journals,
    post_ready_journals,
)
from payledger.stores.journals import SqlJournalBook

POST_JOURNALS = "journal.post"
"""The job kind that closes and posts a company's payment journals."""

PosterFactory = Callable[[Container], Awaitable[JournalPoster]]


async def d365_journal_poster(container: Container) -> JournalPoster:
    """D365's journal-posting service (built on use: the adapter is imported here only)."""
    from payledger.adapters.d365.journal_service import D365JournalPoster

    poster: JournalPoster = D365JournalPoster(
        await container.d365_ledger(), container.settings.posting
    )
    return poster


def post_mode(container: Container) -> PostMode:
    """``[posting] post``; never in shadow mode, where D365 is not written."""
    return PostMode.NEVER if container.shadow_mode else PostMode(container.settings.posting.post)


def journal_book(container: Container) -> SqlJournalBook:
    return SqlJournalBook(container.database, container.clock)


def post_command(container: Container) -> PostJournals:
    s = container.settings
    return PostJournals(
        company=s.d365.company,
        mode=post_mode(container),
        timezone=s.d365.timezone,
        close_after=timedelta(minutes=s.posting.close_after_minutes),
    )


def post_journals_job(container: Container, poster: PosterFactory = d365_journal_poster) -> Handler:
    """Close, post (unless ``never``), then alert on journals unposted too long."""
    book, unposted_after = journal_book(container), container.settings.posting.unposted_alert_hours

    async def run(_job: Job) -> None:
        cmd = post_command(container)
        if cmd.mode is PostMode.NEVER:
            await close_journals(cmd, book, clock=container.clock)
        else:
            parts = Parts(book, await poster(container), container.alerts)
            await post_ready_journals(cmd, parts, clock=container.clock)
        await record_unposted_journals(container.alerts, timedelta(hours=unposted_after))

    return run


async def post_now(
    container: Container, batch_number: str, actor: str, poster: PosterFactory = d365_journal_poster
) -> tuple[Journal, PostOutcome]:
    """An operator's approval, and the post if the journal is ready (``journals post ID``)."""
    mode = post_mode(container)
    parts = Parts(journal_book(container), _Deferred(container, poster), container.alerts)
    return await approve_and_post(batch_number, actor, mode, parts)


async def request_post(container: Container, batch_number: str, actor: str) -> Journal | None:
    """An operator's approval from the console; the worker posts it on its next run, soon."""
    journal = await journal_book(container).approve(batch_number, actor)
    if journal is not None:
        now = container.clock.now()
        async with container.database.transaction() as conn:
            await container.queue.enqueue(conn, _post_job(batch_number, now))
    return journal


def _post_job(batch_number: str, now: datetime) -> NewJob:
    return NewJob(
        POST_JOURNALS,
        {"approved": batch_number},
        dedupe_key=f"{POST_JOURNALS}:approved:{batch_number}:{now.isoformat()}",
        ordering_key=POST_JOURNALS,
    )


def post_schedule(settings: Settings) -> Schedule:
    return Schedule(
        name="journals-post",
        cron="*/5 * * * *",
        job_kind=POST_JOURNALS,
        ordering_key=POST_JOURNALS,
    )


class _Deferred:
    """The poster, built only when the flow first speaks to it (the ``never`` mode and an
    unknown journal build nothing)."""

    def __init__(self, container: Container, factory: PosterFactory) -> None:
        self._container, self._factory = container, factory
        self._poster: JournalPoster | None = None

    async def _get(self) -> JournalPoster:
        if self._poster is None:
            self._poster = await self._factory(self._container)
        return self._poster

    async def post_journal(self, batch_number: str) -> None:
        await (await self._get()).post_journal(batch_number)

    async def read_journal(self, batch_number: str) -> JournalReadback:
        return await (await self._get()).read_journal(batch_number)

    async def open_invoice_amounts(self, invoices: Sequence[str]) -> dict[str, Decimal]:
        return await (await self._get()).open_invoice_amounts(invoices)
