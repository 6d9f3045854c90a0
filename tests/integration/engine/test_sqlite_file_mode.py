"""The SQLite database, and so its WAL, is readable by its owner only."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from payledger.adapters.db.database import Database


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_new_database_and_its_wal_are_created_0600(tmp_path):
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "var" / "payledger.db"
        database = Database(f"sqlite:///{path}")
        async with database.transaction() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600
        assert mode(path.parent) == 0o700
        await database.dispose()
    finally:
        os.umask(old_umask)


async def test_an_existing_database_is_tightened_when_opened(tmp_path):
    path = tmp_path / "payledger.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    database = Database(f"sqlite:///{path}")
    assert mode(path) == 0o600
    await database.dispose()
