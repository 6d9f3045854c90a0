"""The ``journal.post`` job and ``payledger journals`` on a real database (SQLite and
PostgreSQL), with the ERP's posting service faked (``FakeJournalPoster``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from payledger.alerts.store import AlertStore, Windows
from payledger.bootstrap import Container, build
from payledger.bootstrap.journals import journal_book, post_journals_job
from payledger.cli.common import load
from payledger.cli.journals import app as journals_app
from payledger.config import load_settings
from payledger.domain.clock import ManualClock
from payledger.domain.money import Money
from payledger.domain.posting import DayJournal, JournalState, LedgerOperation, Posting
from payledger.engine.jobs import Job
from payledger.stores.postings import SqlPostingStore
from tests.fakes import FakeJournalPoster

DAY = "2026-03-24"
OPENED = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)


def write_config(tmp_path: Path, database_url: str, post: str) -> Path:
    path = tmp_path / "payledger.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[vault]\nkey_file = "{tmp_path}/master.key"\n[logging]\nfile = ""\n'
        f'[d365]\nenabled = true\n[posting]\npost = "{post}"\n'
    )
    return path


async def opened(config: Path, clock: ManualClock | None = None) -> Container:
    container = build(load_settings(str(config)), clock=clock)
    await container.prepare()
    if not container.database.is_sqlite:
        from payledger.adapters.db.migrate import migrate

        await migrate(container.database)
    return container


async def seed(container: Container, poster: FakeJournalPoster, batch: str, *amounts: str) -> None:
    """Journal ``batch`` of the 24th with one written line per amount, held alike by the ERP."""
    store = SqlPostingStore(container.queue)
    day = DayJournal("usmf", DAY, "USD", "CustPay")
    await store.add_journal(day)
    await store.set_batch_number(day, batch)
    lines = [
        Posting(
            reference=f"PT-{n}-PAY",
            gateway_txn_id=str(n),
            operation=LedgerOperation.PAYMENT,
            company="usmf",
            business_day=DAY,
            amount=Money.of(amount),
            payload={},
        )
        for n, amount in enumerate(amounts, start=1)
    ]
    await store.record(1, lines, company="usmf")
    claimed = await store.claim("usmf", 100)
    numbered = await store.number_lines("usmf", batch, claimed)
    await store.settle(posted=[p.reference for p in numbered])
    total = sum((Money.of(a).amount for a in amounts), Money.of("0").amount)
    poster.hold(batch, len(amounts), str(total))


def factory(poster: FakeJournalPoster):
    async def build_poster(_container: Container) -> FakeJournalPoster:
        return poster

    return build_poster


# --- the scheduled job -----------------------------------------------------------------------


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock(OPENED)


async def run_job(container: Container, poster: FakeJournalPoster, at: datetime) -> None:
    container.clock._now = at  # type: ignore[attr-defined]
    handler = post_journals_job(container, factory(poster))
    await handler(Job(id=1, kind="journal.post", payload={}, attempts=1, max_attempts=5))


async def pending_alerts(container: Container) -> dict[str, int]:
    rows = await AlertStore(container.database, Windows()).rows()
    return {row["key"]: row["pending"] for row in rows}


@pytest.fixture
async def job_world(database_url, tmp_path, clock) -> AsyncIterator[tuple[Container, Path]]:
    config = write_config(tmp_path, database_url, "when_balanced")
    container = await opened(config, clock)
    yield container, config
    await container.aclose()


async def test_the_job_closes_posts_and_clears_the_journals_alerts(job_world):
    container, _ = job_world
    poster = FakeJournalPoster()
    await seed(container, poster, "JRN-1", "10.00", "32.50")
    await run_job(container, poster, OPENED + timedelta(hours=12))  # the 24th is not over
    assert poster.posts == []
    poster.refuse["JRN-1"] = "Voucher series exhausted"
    await run_job(container, poster, datetime(2026, 3, 25, 8, 0, tzinfo=UTC))
    journal = await journal_book(container).journal("JRN-1")
    assert journal is not None and journal.closed
    assert (journal.state, journal.post_error) == (JournalState.REFUSED, "Voucher series exhausted")
    assert (await pending_alerts(container))["journal:JRN-1"] == 1
    del poster.refuse["JRN-1"]
    await run_job(container, poster, datetime(2026, 3, 25, 8, 5, tzinfo=UTC))
    journal = await journal_book(container).journal("JRN-1")
    assert journal is not None and journal.state is JournalState.POSTED
    assert poster.posts == ["JRN-1", "JRN-1"]
    assert (await pending_alerts(container))["journal:JRN-1"] == 0


async def test_in_never_mode_the_job_only_closes_and_alerts_on_overdue_journals(
    database_url, tmp_path, clock
):
    container = await opened(write_config(tmp_path, database_url, "never"), clock)
    try:
        poster = FakeJournalPoster()
        await seed(container, poster, "JRN-1", "10.00")
        await run_job(container, poster, OPENED + timedelta(hours=35))
        assert "journal-unposted:JRN-1" not in await pending_alerts(container)
        await run_job(container, poster, OPENED + timedelta(hours=36))
        assert (await pending_alerts(container))["journal-unposted:JRN-1"] == 1
        journal = await journal_book(container).journal("JRN-1")
        assert journal is not None and journal.closed and journal.state is JournalState.UNPOSTED
        assert poster.posts == []
    finally:
        await container.aclose()


# --- payledger journals ------------------------------------------------------------------


def cli(config: Path, poster: FakeJournalPoster) -> typer.Typer:
    """``payledger`` with only its ``journals`` group, the ERP's posting service faked."""
    root = typer.Typer()

    @root.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = {"settings": load(str(config)), "journal_poster": factory(poster)}

    root.add_typer(journals_app, name="journals")
    return root


def invoke(config: Path, poster: FakeJournalPoster, *args: str):
    return CliRunner().invoke(cli(config, poster), list(args), env={"COLUMNS": "200"})


def seeded(config: Path, *amounts: str) -> FakeJournalPoster:
    """Journal ``JRN-7`` in the configured database (as the CLI's own loop will find it)."""
    poster = FakeJournalPoster()

    async def go() -> None:
        container = await opened(config)
        try:
            await seed(container, poster, "JRN-7", *amounts)
        finally:
            await container.aclose()

    asyncio.run(go())
    return poster


@pytest.fixture
def cli_world(database_url, tmp_path) -> tuple[Path, FakeJournalPoster]:
    config = write_config(tmp_path, database_url, "after_review")
    return config, seeded(config, "10.00", "5.25")


def test_journals_list_shows_each_journal_with_its_lines_total_and_state(cli_world):
    config, poster = cli_world
    result = invoke(config, poster, "journals", "list")
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if "JRN-7" in line]
    assert [cell.strip() for cell in row.strip("│ ").split("│")][:6] == [
        "JRN-7",
        DAY,
        "USD",
        "2",
        "15.25",
        "unposted",
    ]


def test_journals_post_approves_and_posts_it_now(cli_world):
    config, poster = cli_world
    result = invoke(config, poster, "journals", "post", "JRN-7")
    assert result.exit_code == 0, result.output
    assert "journal JRN-7: posted in D365" in result.output
    assert poster.posts == ["JRN-7"]
    listed = invoke(config, poster, "journals", "list").output
    assert "posted" in next(line for line in listed.splitlines() if "JRN-7" in line)


def test_journals_post_says_why_d365_refused_and_exits_1(cli_world):
    config, poster = cli_world
    poster.refuse["JRN-7"] = "The journal cannot be posted: period 2026-03 is closed"
    result = invoke(config, poster, "journals", "post", "JRN-7")
    assert result.exit_code == 1
    assert "D365 refused it" in result.output and "period 2026-03 is closed" in result.output


def test_journals_post_of_an_unknown_id_exits_2(cli_world):
    config, poster = cli_world
    result = invoke(config, poster, "journals", "post", "JRN-404")
    assert result.exit_code == 2
    assert "no journal with batch number 'JRN-404'" in result.output
    assert poster.posts == []


def test_journals_post_in_never_mode_refuses_clearly(database_url, tmp_path):
    config = write_config(tmp_path, database_url, "never")
    poster = seeded(config, "10.00")
    result = invoke(config, poster, "journals", "post", "JRN-7")
    assert result.exit_code == 2
    assert 'post = "never"' in result.output
    assert poster.posts == []
