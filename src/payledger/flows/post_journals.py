"""Write owed postings to the ledger in batches, each exactly once.

A flush claims the owed postings of one company, puts each line into its day's journal with a
line number (both persisted *before* anything is sent; a journal is opened in the ledger when
the day has none, or its last one was posted), and writes them in as few requests as the ledger
allows: many lines per atomic changeset, several requests in flight. Outcomes:

* written: the postings are posted;
* the changeset was refused: it is split in halves until the bad line is alone; that line is
  dead (with the ledger's error) and every other line is written;
* the outcome is unknown (timeout, lost answer): the lines are looked up by their
  ``PaymentReference``; those found are posted, the rest are owed again;
* the ledger is throttled or down: everything is owed again and the flush retries later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from payledger.domain.errors import AmbiguousOutcome, RateLimited, TransientError
from payledger.domain.posting import DayJournal, JournalClosed, Posting, PostingState
from payledger.flows.ports import JournalOpener, Ledger, PostingStore


@dataclass(frozen=True)
class FlushJournals:
    company: str
    journal_name: str
    max_lines: int = 100
    """Lines per changeset (one request)."""
    parallel_requests: int = 8
    keep_taking_s: float = 0.0
    """How long the flush goes on taking newly owed lines, a round every ``round_s``, while its
    earlier requests are still out (a pipeline); 0 for one round."""
    round_s: float = 0.5


@dataclass
class FlushResult:
    posted: int = 0
    dead: int = 0
    owed_again: int = 0
    requests: int = 0
    rounds: int = 0
    retry_after: float | None = None
    errors: list[str] = field(default_factory=list)


async def flush_journals(
    cmd: FlushJournals,
    *,
    store: PostingStore,
    ledger: Ledger,
    stop_taking: Callable[[], bool] = lambda: False,
    on_round: Callable[[FlushResult], None] = lambda result: None,
) -> FlushResult:
    """Write what ``cmd.company`` owes; raises :class:`RateLimited` to be retried later.

    Flushes of one company never overlap, so the first round also takes what a flush that
    died left on its way; later rounds take only what became owed since, as long as requests
    are free, and stop once the ledger pushes back, nothing is left to do, ``keep_taking_s``
    is over or ``stop_taking()`` says so. ``on_round`` sees the result so far after each round.
    """
    result = FlushResult()
    requests = _InFlight(asyncio.Semaphore(cmd.parallel_requests))
    loop = asyncio.get_running_loop()
    stop_taking_at = loop.time() + cmd.keep_taking_s
    try:
        limit = cmd.max_lines * cmd.parallel_requests
        took = await _round(cmd, limit, store, ledger, requests, result)
        while (took or requests.count) and loop.time() < stop_taking_at:
            await requests.wait(cmd.round_s)
            on_round(result)
            if stop_taking() or result.retry_after is not None:
                break
            free = cmd.parallel_requests - requests.count
            took = free > 0 and await _round(
                cmd, free * cmd.max_lines, store, ledger, requests, result
            )
        await requests.finish()
    except BaseException:
        # Whatever is still on its way may or may not have reached the ledger: the next flush
        # looks those up before sending anything again.
        await requests.stop()
        await store.settle(unknown=requests.unfinished)
        raise
    if result.retry_after is not None:
        raise RateLimited("the ledger asked payledger to slow down", retry_after=result.retry_after)
    return result


async def _round(
    cmd: FlushJournals,
    limit: int,
    store: PostingStore,
    ledger: Ledger,
    requests: _InFlight,
    result: FlushResult,
) -> bool:
    """Take up to ``limit`` owed postings, number their lines and send them; False if none."""
    claimed = await store.claim(cmd.company, limit, retake_sending=not result.rounds)
    result.rounds += 1
    if not claimed:
        return False
    requests.taking = [posting.reference for posting in claimed]
    lines = await _skip_written(
        [posting for posting in claimed if posting.is_line],
        store=store,
        ledger=ledger,
        result=result,
    )
    placed = await place_lines(cmd.company, cmd.journal_name, lines, store=store, ledger=ledger)
    others = [posting for posting in claimed if not posting.is_line]
    for chunk_lines, chunk_others in _requests(placed, others, cmd.max_lines):
        request = _write(
            chunk_lines, chunk_others, store=store, ledger=ledger, gate=requests.gate, result=result
        )
        requests.send(request, [p.reference for p in (*chunk_lines, *chunk_others)])
    requests.taking = []
    return True


async def place_lines(
    company: str,
    journal_name: str,
    lines: Sequence[Posting],
    *,
    store: PostingStore,
    ledger: JournalOpener,
) -> list[Posting]:
    """Give each line its journal and line number, persisted before anything is sent; returns
    the lines this flush sends.

    A line already numbered in a journal not posted (nor being posted) keeps its number (D365
    refuses a resend of it as existing); the others are numbered in the journal of their day
    and currency that still takes lines (a new one once the day's journal closed). A line
    another flush numbered since it was claimed is left out.
    """
    placed: list[Posting] = []
    groups: dict[tuple[str, str], list[Posting]] = {}
    open_numbers = await store.open_journal_numbers(company)
    for line in lines:
        if line.journal_batch_number and line.journal_batch_number in open_numbers:
            placed.append(line)
        else:
            groups.setdefault((line.business_day, line.amount.currency), []).append(line)
    for (day, currency), group in groups.items():
        journal = DayJournal(company, day, currency, journal_name)
        placed += await _number_in_open_journal(journal, group, store=store, ledger=ledger)
    return placed


PLACING_ATTEMPTS = 3


async def _number_in_open_journal(
    day: DayJournal, lines: list[Posting], *, store: PostingStore, ledger: JournalOpener
) -> list[Posting]:
    """Number ``lines`` in the day's open journal; when it closed between being found and
    numbering (the day's closing, an approval), in the next one."""
    for attempt in range(1, PLACING_ATTEMPTS + 1):
        batch_number = await _open_journal(day, store=store, ledger=ledger)
        try:
            return await store.number_lines(day.company, batch_number, lines)
        except JournalClosed:
            if attempt == PLACING_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _open_journal(day: DayJournal, *, store: PostingStore, ledger: JournalOpener) -> str:
    """The batch number of the day's journal that takes lines; a new one is opened in the
    ledger when the day has none or its last one is closed.

    The journal is kept before the ledger is asked, so a crash in between is recovered by
    asking again with the same description (the ledger adapter finds the header it created
    instead of creating a second one).
    """
    latest = await store.latest_journal(
        day.company, day.business_day, day.currency, day.journal_name
    )
    if latest is not None and not latest.closed:
        if latest.batch_number:
            return latest.batch_number
        journal = latest  # kept, but the ledger's answer never came back
    else:
        journal = replace(day, generation=latest.generation + 1 if latest else 1)
        await store.add_journal(journal)
    batch_number = await ledger.open_payment_journal(_journal_description(journal))
    await store.set_batch_number(journal, batch_number)
    return batch_number


def _journal_description(journal: DayJournal) -> str:
    """The journal header's description, the same at every attempt to open ``journal``."""
    return (
        f"payledger {journal.company} {journal.business_day} {journal.currency} "
        f"#{journal.generation}"
    )


class _InFlight:
    """The flush's requests on their way. When one fails, the others are stopped before the
    flush gives up, so none is still writing while a retry sends the same lines again."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self.gate = gate
        self.taking: list[str] = []
        """References claimed by the round being prepared, not yet sent."""
        self._tasks: dict[asyncio.Task[None], list[str]] = {}

    @property
    def count(self) -> int:
        return len(self._tasks)

    @property
    def unfinished(self) -> list[str]:
        """References claimed and not yet settled by their request."""
        return [*self.taking, *(ref for refs in self._tasks.values() for ref in refs)]

    def send(self, request: Coroutine[Any, Any, None], references: list[str]) -> None:
        self._tasks[asyncio.ensure_future(request)] = references

    async def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` (lines gather meanwhile); a request failing is raised at once."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while self._tasks and (left := until - loop.time()) > 0:
            done, _ = await asyncio.wait(
                self._tasks, timeout=left, return_when=asyncio.FIRST_EXCEPTION
            )
            self._forget(done)
        await asyncio.sleep(max(until - loop.time(), 0))

    async def finish(self) -> None:
        while self._tasks:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
            self._forget(done)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _forget(self, done: set[asyncio.Task[None]]) -> None:
        for task in done:
            task.result()  # a failed request stops the flush here
            del self._tasks[task]


async def _skip_written(
    lines: list[Posting], *, store: PostingStore, ledger: Ledger, result: FlushResult
) -> list[Posting]:
    """Lines whose last attempt had an unknown outcome are looked up before being resent."""
    unknown = [
        line for line in lines if line.state is PostingState.UNKNOWN and line.journal_batch_number
    ]
    if not unknown:
        return lines
    written = await ledger.existing_references(unknown)
    await store.settle(posted=sorted(written))
    result.posted += len(written)
    return [line for line in lines if line.reference not in written]


def _requests(
    lines: Sequence[Posting], others: Sequence[Posting], max_lines: int
) -> list[tuple[list[Posting], list[Posting]]]:
    """Lines grouped by journal in chunks of ``max_lines``; the other writes ride along."""
    by_journal: dict[str, list[Posting]] = {}
    for line in lines:
        by_journal.setdefault(line.journal_batch_number, []).append(line)
    chunks = [
        journal_lines[start : start + max_lines]
        for journal_lines in by_journal.values()
        for start in range(0, len(journal_lines), max_lines)
    ]
    requests: list[tuple[list[Posting], list[Posting]]] = [(chunk, []) for chunk in chunks]
    for start in range(0, len(others), max_lines):
        extra = list(others[start : start + max_lines])
        if start // max_lines < len(requests):
            requests[start // max_lines][1].extend(extra)
        else:
            requests.append(([], extra))
    return requests


async def _write(
    lines: list[Posting],
    others: list[Posting],
    *,
    store: PostingStore,
    ledger: Ledger,
    gate: asyncio.Semaphore,
    result: FlushResult,
    looked_up: bool = False,
) -> None:
    async with gate:
        result.requests += 1
        try:
            outcome = await ledger.write(lines, others)
        except AmbiguousOutcome:
            await _resolve_unknown(lines, others, store=store, ledger=ledger, result=result)
            return
        except TransientError as exc:
            await store.settle(replan=[p.reference for p in (*lines, *others)])
            result.owed_again += len(lines) + len(others)
            retry_after = getattr(exc, "retry_after", None) or 1.0
            result.retry_after = max(result.retry_after or 0.0, retry_after)
            return
    failed_others = [(ref, error) for ref, error in outcome.failed.items()]
    posted_others = [p.reference for p in others if p.reference not in outcome.failed]
    await store.settle(posted=posted_others, dead=failed_others)
    result.posted += len(posted_others)
    result.dead += len(failed_others)
    if outcome.lines_error is None:
        await store.settle(posted=[p.reference for p in lines])
        result.posted += len(lines)
        return
    await _isolate_bad_lines(
        lines,
        outcome.lines_error,
        store=store,
        ledger=ledger,
        gate=gate,
        result=result,
        looked_up=looked_up,
    )


async def _isolate_bad_lines(
    lines: list[Posting],
    error: str,
    *,
    store: PostingStore,
    ledger: Ledger,
    gate: asyncio.Semaphore,
    result: FlushResult,
    looked_up: bool,
) -> None:
    if not looked_up:
        # A line is refused as a duplicate when an earlier attempt wrote it after all (its
        # answer was lost, or the ledger committed after payledger looked): posted, not bad.
        try:
            written = await ledger.existing_references(lines)
        except TransientError:
            await store.settle(unknown=[p.reference for p in lines])
            result.owed_again += len(lines)
            return
        if written:
            await store.settle(posted=sorted(written))
            result.posted += len(written)
            rest = [p for p in lines if p.reference not in written]
            if rest:
                await _write(rest, [], store=store, ledger=ledger, gate=gate, result=result)
            return
    if await ledger.journal_is_posted(lines[0].journal_batch_number):
        # Someone posted the journal: its lines are owed again and go to a new one.
        await store.close_journal(lines[0].journal_batch_number)
        await store.settle(replan=[p.reference for p in lines])
        result.owed_again += len(lines)
        return
    if len(lines) == 1:
        await store.settle(dead=[(lines[0].reference, error)])
        result.dead += 1
        result.errors.append(error)
        return
    middle = len(lines) // 2
    for half in (lines[:middle], lines[middle:]):
        await _write(half, [], store=store, ledger=ledger, gate=gate, result=result, looked_up=True)


async def _resolve_unknown(
    lines: list[Posting],
    others: list[Posting],
    *,
    store: PostingStore,
    ledger: Ledger,
    result: FlushResult,
) -> None:
    references = [p.reference for p in lines]
    # Removals and order updates are idempotent: sending them again is harmless.
    await store.settle(unknown=references, replan=[p.reference for p in others])
    result.owed_again += len(others)
    try:
        existing = await ledger.existing_references(lines) if lines else set()
    except TransientError:
        return  # still unknown; the next flush looks them up again
    missing = [ref for ref in references if ref not in existing]
    await store.settle(posted=sorted(existing), replan=missing)
    result.posted += len(existing)
    result.owed_again += len(missing)
