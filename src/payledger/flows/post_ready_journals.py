"""Close payledger's payment journals after their day and post the ready ones, exactly once.

A journal closes to new lines once its business day has been over ``close_after`` (and it
has been open that long). It is **ready** when closed, none of its lines is still owed or on
its way, and it balances: the lines payledger wrote in it (count and net amount) are what
the ledger holds. Whether a ready journal is posted depends on the mode: ``never``,
``when_balanced``, or ``after_review`` (an operator approved it).

Posting is exactly once: the journal is marked ``posting`` (persisted) before the request
goes out, and a journal found ``posting`` is read back first: posted, it is only marked so.
Outcomes of the request:

* accepted: read back, and marked posted once the ledger says it is;
* refused (``RejectedError``), or the posting service missing (``ConfigError``): ``refused``
  with the reason, an alert; the journal is untouched and tried again on later runs;
* unknown (``AmbiguousOutcome``) or the ledger down (``TransientError``): left ``posting``,
  read back on the next run.

A journal someone posted in the ledger is marked posted and not sent. Its alerts clear when
it is posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from payledger.domain.clock import Clock
from payledger.domain.errors import (
    AmbiguousOutcome,
    ConfigError,
    DomainError,
    RejectedError,
    TransientError,
)
from payledger.domain.posting import (
    Journal,
    JournalState,
    PostMode,
    balance_difference,
    last_closable_day,
)
from payledger.flows.ports import JournalBook, JournalPoster, OperatorAlerts


@dataclass(frozen=True)
class PostJournals:
    company: str
    mode: PostMode
    timezone: str
    """The zone whose calendar day is a journal's business day."""
    close_after: timedelta


class PostOutcome(StrEnum):
    POSTED = "posted"
    WAITING = "waiting"
    """Not ready yet (lines on their way) or the ledger unavailable: tried again later."""
    UNCONFIRMED = "unconfirmed"
    """Sent; the ledger has not confirmed it posted yet: read back on the next run."""
    UNBALANCED = "unbalanced"
    REFUSED = "refused"


@dataclass
class PostRun:
    closed: list[str] = field(default_factory=list)
    outcomes: dict[str, PostOutcome] = field(default_factory=dict)
    """By batch number, for each journal the run tried to post."""


@dataclass(frozen=True)
class Parts:
    """What posting speaks through."""

    book: JournalBook
    poster: JournalPoster
    alerts: OperatorAlerts


class UnknownJournal(DomainError):
    """No journal of payledger's has this batch number."""


def alert_keys(batch_number: str) -> tuple[str, str]:
    """The keys of a journal's alerts: not posted (refused, unbalanced) and overdue."""
    return f"journal:{batch_number}", f"journal-unposted:{batch_number}"


async def close_journals(cmd: PostJournals, book: JournalBook, *, clock: Clock) -> list[str]:
    """Close to new lines the journals whose day (and opening) is ``close_after`` past."""
    now = clock.now()
    last_day = last_closable_day(now, cmd.timezone, cmd.close_after)
    return await book.close_due(cmd.company, last_day, now - cmd.close_after)


async def post_ready_journals(cmd: PostJournals, parts: Parts, *, clock: Clock) -> PostRun:
    """Close the journals whose day is over, then post those ``cmd.mode`` lets through."""
    run = PostRun(closed=await close_journals(cmd, parts.book, clock=clock))
    if cmd.mode is PostMode.NEVER:
        return run
    for journal in await parts.book.unposted(cmd.company):
        if journal.may_post(cmd.mode):
            run.outcomes[journal.batch_number] = await post_journal(journal, parts)
    return run


async def approve_and_post(
    batch_number: str, actor: str, mode: PostMode, parts: Parts
) -> tuple[Journal, PostOutcome]:
    """An operator's "post it now": approved (which closes it to new lines), then posted if
    it is ready; returns the journal as it stands and what happened."""
    if mode is PostMode.NEVER:
        raise ConfigError(
            '[posting] post = "never": payledger does not post journals (set it to '
            '"after_review" or "when_balanced", or post the journal in D365)'
        )
    journal = await parts.book.approve(batch_number, actor)
    if journal is None:
        raise UnknownJournal(f"no journal with batch number {batch_number!r}")
    outcome = PostOutcome.POSTED
    if journal.state is not JournalState.POSTED:
        outcome = await post_journal(journal, parts)
    found = await parts.book.journal(batch_number)
    return found or journal, outcome


async def post_journal(journal: Journal, parts: Parts) -> PostOutcome:
    """Post ``journal`` if it is ready; read back first when an earlier attempt is unresolved."""
    book, poster, number = parts.book, parts.poster, journal.batch_number
    contents = await book.contents(number)
    if contents.owed and journal.state is not JournalState.POSTING:
        return PostOutcome.WAITING
    readback = await poster.read_journal(number)
    if readback.is_posted:  # by an earlier attempt whose answer was lost, or by someone in F&O
        return await _posted(number, parts)
    if not readback.exists:
        return await _refused(journal, f"journal {number} does not exist in D365", parts)
    difference = balance_difference(contents, readback.line_count, readback.total, journal.currency)
    if difference is not None:
        await book.note_error(number, f"not balanced: {difference}")
        await _alert(journal, "does not balance", difference, parts)
        return PostOutcome.UNBALANCED
    if not await book.start_posting(number):
        return PostOutcome.WAITING
    try:
        await poster.post_journal(number)
    except RejectedError as exc:
        return await _refused(journal, str(exc), parts)
    except ConfigError as exc:
        return await _refused(journal, f"the journal-posting service is not usable: {exc}", parts)
    except (AmbiguousOutcome, TransientError) as exc:
        await book.note_error(number, f"outcome unknown, read back on the next run: {exc}")
        return PostOutcome.UNCONFIRMED
    return await _confirm(number, parts)


async def _confirm(number: str, parts: Parts) -> PostOutcome:
    try:
        readback = await parts.poster.read_journal(number)
    except (AmbiguousOutcome, TransientError) as exc:
        await parts.book.note_error(number, f"posted? read back on the next run: {exc}")
        return PostOutcome.UNCONFIRMED
    if readback.is_posted:
        return await _posted(number, parts)
    await parts.book.note_error(number, "D365 took the request but does not show it posted yet")
    return PostOutcome.UNCONFIRMED


async def _posted(number: str, parts: Parts) -> PostOutcome:
    await parts.book.posted(number)
    for key in alert_keys(number):
        await parts.alerts.clear(key)
    return PostOutcome.POSTED


async def _refused(journal: Journal, reason: str, parts: Parts) -> PostOutcome:
    await parts.book.refused(journal.batch_number, reason)
    await _alert(journal, "was refused", reason, parts)
    return PostOutcome.REFUSED


async def _alert(journal: Journal, what: str, reason: str, parts: Parts) -> None:
    number = journal.batch_number
    await parts.alerts.notify(
        alert_keys(number)[0],
        f"Journal {number} not posted: it {what}",
        f"Journal {number} ({journal.business_day}, {journal.currency}) was not posted: "
        f"{reason}. It is tried again on every run; nothing was posted.",
        facts={"journal": number, "business day": journal.business_day, "reason": reason},
    )
