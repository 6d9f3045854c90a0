"""``payledger backfill --from A --to B``: a past period from PayTrace's exports, once."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import console, opened, run, settings_from, setup_logging
from payledger.domain.errors import ConfigError, DomainError
from payledger.flows.backfill import Backfill, DayBackfilled, backfill_day
from payledger.stores.backfills import audit_backfill
from payledger.stores.payment_events import SqlPaymentEventStore
from payledger.views.backfill import EventsState, events_state


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def backfill(
    ctx: typer.Context,
    first: Annotated[
        str, typer.Option("--from", help="First day, PayTrace's calendar (YYYY-MM-DD).")
    ],
    last: Annotated[str, typer.Option("--to", help="Last day, inclusive (YYYY-MM-DD).")],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Then work the queue here until the period's events are posted (otherwise "
            "running workers post them).",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="With --wait: give up waiting after this many seconds.")
    ] = 600.0,
    actor: Annotated[str, typer.Option(help="Who runs it (written to the audit log).")] = "cli",
) -> None:
    """Bring a past period in from PayTrace's exports, a day at a time.

    Payments get the same inbox keys as the poller's, so what the poller (or an earlier
    backfill) already brought in is counted as known and never posted twice.
    """
    settings = settings_from(ctx)
    try:
        command = Backfill(_day(first, "--from"), _day(last, "--to"))
    except DomainError as exc:
        raise typer.BadParameter(str(exc)) from None
    today = datetime.now(ZoneInfo(settings.paytrace.timezone)).date()
    if command.last > today:
        raise typer.BadParameter(
            f"{command.last} is in the future (today is {today})", param_hint="--to"
        )
    setup_logging(settings, stderr=False)

    async def go() -> tuple[list[DayBackfilled], EventsState | None]:
        async with opened(settings) as container:
            days = await _fetch(container, command)
            await audit_backfill(
                container.database,
                at=container.clock.now(),
                actor=actor,
                first=command.first.isoformat(),
                last=command.last.isoformat(),
                detail={
                    "fetched": sum(d.fetched for d in days),
                    "new": sum(d.new for d in days),
                    "known": sum(d.known for d in days),
                },
            )
            state = await _work_until_posted(container, days, timeout) if wait else None
            return days, state

    days, state = run(go())
    console.print(_summary(days))
    if state is not None:
        console.print(_posting_summary(state))
        if not state.settled:
            console.print(
                f"[yellow]{state.events['waiting']} event(s) still waiting after {timeout:.0f} s"
                + (f"; e.g. {state.waiting_example}" if state.waiting_example else "")
                + "[/yellow] (a refund whose sale is older than --from waits for it: backfill"
                " further back)"
            )
    elif sum(d.new for d in days):
        console.print("running workers post the new events; `payledger status` shows progress")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def _fetch(container: Container, command: Backfill) -> list[DayBackfilled]:
    if not container.settings.paytrace.username:
        raise ConfigError(
            "backfill needs paytrace.username (and the PayTrace password in the vault)"
        )
    source = await container.daily_payments()
    store = SqlPaymentEventStore(container.inbox)
    results = []
    with _progress() as progress:
        task = progress.add_task("fetching", total=len(command.days))
        for day in command.days:
            progress.update(task, description=f"fetching {day}")
            results.append(
                await backfill_day(day, source=source, store=store, clock=container.clock)
            )
            progress.advance(task)
        progress.update(task, description="fetched")
    return results


async def _work_until_posted(
    container: Container, days: list[DayBackfilled], give_up_after: float
) -> EventsState:
    if not container.settings.d365.enabled:
        raise ConfigError("--wait needs d365.enabled = true: without it nothing posts the events")
    event_ids = [event for day in days for event in day.event_ids]
    worker = container.worker(name="backfill")
    working = asyncio.create_task(worker.run())
    deadline = time.monotonic() + give_up_after
    try:
        with _progress() as progress:
            task = progress.add_task("posting", total=len(set(event_ids)))
            while True:
                state = await events_state(container.database, "paytrace", event_ids)
                progress.update(task, completed=state.done)
                if state.settled or time.monotonic() > deadline:
                    return state
                await asyncio.sleep(0.25)
    finally:
        worker.stop()
        await working


def _summary(days: list[DayBackfilled]) -> Table:
    table = Table("day", "fetched", "new", "already known", title="backfill")
    for day in days:
        table.add_row(day.day.isoformat(), f"{day.fetched:,}", f"{day.new:,}", f"{day.known:,}")
    table.add_section()
    table.add_row(
        "total",
        f"{sum(d.fetched for d in days):,}",
        f"{sum(d.new for d in days):,}",
        f"{sum(d.known for d in days):,}",
    )
    return table


def _posting_summary(state: EventsState) -> Table:
    table = Table("", "count", title="after processing")
    for status in ("processed", "parked", "dead", "waiting"):
        table.add_row(f"events {status}", f"{state.events[status]:,}")
    for posting_state, count in sorted(state.postings.items()):
        table.add_row(f"ledger writes {posting_state}", f"{count:,}")
    return table
