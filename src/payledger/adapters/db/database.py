"""Connecting to the store: SQLite (WAL, one writer at a time) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from payledger.adapters.db.group_commit import GroupCommit
from payledger.domain.errors import ConfigError, TransientError

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def async_url(url: str) -> URL:
    """The URL with the async driver payledger uses for its backend."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.get_backend_name())
    if driver is None:
        raise ConfigError(f"database.url: unsupported backend {parsed.get_backend_name()!r}")
    return parsed.set(drivername=driver)


class Database:
    """An async engine plus the transaction discipline payledger relies on.

    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so that a claim is one writer
    transaction and two writers never deadlock upgrading a read lock; on PostgreSQL claims use
    ``FOR UPDATE SKIP LOCKED`` instead.

    SQLite has one writer at a time, so the transactions of one process take turns on one
    connection instead of polling for the file lock, and those that queue up behind each other
    share one commit (one fsync): see :class:`~payledger.adapters.db.group_commit.GroupCommit`.
    A block still returns only once its writes are durable.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = self.url.get_backend_name()
        if self.is_sqlite:
            self._prepare_sqlite_file()
            self.engine: AsyncEngine = create_async_engine(self.url)
            _install_sqlite_pragmas(self.engine, busy_timeout_ms)
            self._group: GroupCommit | None = GroupCommit(self.engine)
        else:
            self.engine = create_async_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._group = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _prepare_sqlite_file(self) -> None:
        """Create the database file readable by its owner only (0600), and tighten an existing
        one and its WAL; SQLite gives the -wal and -shm files it creates the database's mode."""
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        path = Path(database)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists():
                file.chmod(0o600)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            if self._group is not None:
                async with self._group.transaction() as conn:
                    yield conn
            else:
                async with self.engine.begin() as conn:
                    yield conn
        except (OperationalError, DBAPIError) as exc:
            if exc.connection_invalidated or _is_unavailable(exc):
                raise TransientError(
                    f"database unavailable: {exc.orig}", system="database"
                ) from exc
            raise

    async def ping(self) -> None:
        """Raise :class:`TransientError` unless the database answers."""
        async with self.transaction() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._group is not None:
            await self._group.close()
        await self.engine.dispose()


def _is_unavailable(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(
        hint in message
        for hint in ("connection", "could not connect", "unable to open", "database is locked")
    )


def _install_sqlite_pragmas(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
