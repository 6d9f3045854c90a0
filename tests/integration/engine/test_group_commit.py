"""SQLite transactions that queue up behind each other share one commit, and stay separate."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from payledger.adapters.db.database import Database


@pytest.fixture
async def sqlite(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'group.db'}")
    async with database.transaction() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    commits: list[int] = []
    event.listen(database.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    database.commits = commits  # type: ignore[attr-defined]
    yield database
    await database.dispose()


async def note(database: Database, number: int, *, fail: bool = False) -> None:
    async with database.transaction() as conn:
        await conn.execute(text("INSERT INTO notes (id, body) VALUES (:id, 'x')"), {"id": number})
        await asyncio.sleep(0)  # let the others queue up behind this one
        if fail:
            raise ValueError(f"note {number} refused")


async def stored(database: Database) -> set[int]:
    async with database.transaction() as conn:
        return set((await conn.execute(text("SELECT id FROM notes"))).scalars())


async def test_concurrent_transactions_share_commits(sqlite):
    sqlite.commits.clear()
    await asyncio.gather(*(note(sqlite, n) for n in range(50)))
    assert await stored(sqlite) == set(range(50))
    assert len(sqlite.commits) < 25  # one fsync per group, not per transaction


async def test_a_failing_transaction_is_rolled_back_alone(sqlite):
    results = await asyncio.gather(
        *(note(sqlite, n, fail=n == 3) for n in range(8)), return_exceptions=True
    )
    assert isinstance(results[3], ValueError)
    assert [r for n, r in enumerate(results) if n != 3] == [None] * 7
    assert await stored(sqlite) == set(range(8)) - {3}


async def test_a_transaction_returns_only_after_its_commit(sqlite):
    committed_before_return: list[bool] = []

    async def watched(number: int) -> None:
        before = len(sqlite.commits)
        await note(sqlite, number)
        committed_before_return.append(len(sqlite.commits) > before)

    await asyncio.gather(*(watched(n) for n in range(10)))
    assert committed_before_return == [True] * 10


async def test_a_broken_commit_fails_every_member_of_the_group(sqlite):
    def refuse(_conn):
        raise RuntimeError("disk full")

    event.listen(sqlite.engine.sync_engine, "commit", refuse)
    try:
        results = await asyncio.gather(*(note(sqlite, n) for n in range(5)), return_exceptions=True)
    finally:
        event.remove(sqlite.engine.sync_engine, "commit", refuse)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await stored(sqlite) == set()


async def test_a_failing_first_transaction_of_a_group_is_rolled_back_alone(sqlite):
    # the first of a group runs without a savepoint: its failure rolls back the whole
    # transaction, which holds nothing of the others yet
    results = await asyncio.gather(
        *(note(sqlite, n, fail=n == 0) for n in range(6)), return_exceptions=True
    )
    assert isinstance(results[0], ValueError)
    assert results[1:] == [None] * 5
    with pytest.raises(ValueError):
        await note(sqlite, 10, fail=True)  # alone: first of its own group
    await note(sqlite, 11)
    assert await stored(sqlite) == {1, 2, 3, 4, 5, 11}
