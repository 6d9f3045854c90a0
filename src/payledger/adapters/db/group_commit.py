"""Group commit for SQLite: transactions that queue up behind each other share one fsync.

SQLite lets one connection write at a time, and with ``synchronous=FULL`` every commit waits
for the disk. Instead of every task polling for the file lock and paying its own fsync, the
tasks of one process take turns on one connection: each block runs in a shared transaction
(inside a ``SAVEPOINT``, but for the first), and the transaction is committed when no other
block is waiting (or the group is full). A block that raises is rolled back alone (to its
savepoint, or with the whole transaction when it was the first). No block returns
before the commit that made it durable, so a caller never acts on writes that could vanish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

MAX_GROUP = 64
"""Blocks per commit at most, so other processes get the file lock between groups."""


class GroupCommit:
    """Serialised transactions on one SQLite connection, committed in groups."""

    def __init__(self, engine: AsyncEngine, *, max_group: int = MAX_GROUP) -> None:
        self._engine = engine
        self._max_group = max_group
        self._lock = asyncio.Lock()
        self._queued = 0
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._members: list[asyncio.Future[None]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One block of the current group; returns once the group's commit is durable."""
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        durable: asyncio.Future[None] | None = None
        try:
            connection = await self._begin()
            # The first block of a group has the transaction to itself: if it fails, rolling
            # the whole transaction back undoes it alone, so it needs no savepoint (two
            # statements fewer, the common case of a lone writer).
            savepoint = await connection.begin_nested() if self._members else None
            try:
                yield connection
            except BaseException:
                await self._undo(savepoint)
                raise
            if savepoint is not None:
                await savepoint.commit()
            durable = asyncio.get_running_loop().create_future()
            self._members.append(durable)
        finally:
            try:
                if self._queued == 0 or len(self._members) >= self._max_group:
                    await self._finish()
            except Exception:
                if durable is None:
                    raise  # this block had failed anyway; otherwise ``durable`` tells
            finally:
                self._lock.release()
        assert durable is not None  # a block that raised has left by now
        await durable

    async def _begin(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self._engine.connect()
        if self._transaction is None:
            try:
                self._transaction = await self._connection.begin()
            except BaseException:
                await self._discard()
                raise
        return self._connection

    async def _undo(self, savepoint: AsyncTransaction | None) -> None:
        try:
            if savepoint is not None:
                await savepoint.rollback()
                return
            transaction, self._transaction = self._transaction, None
            if transaction is not None:
                await transaction.rollback()
        except BaseException as exc:
            # The shared transaction is unusable: nobody in this group committed.
            await self._abort(exc)

    async def _finish(self) -> None:
        """Commit the group (or end an empty one) and tell its members how it went."""
        if self._transaction is None:
            return
        members, self._members = self._members, []
        transaction, self._transaction = self._transaction, None
        commit = asyncio.ensure_future(transaction.commit())
        try:
            # Seen through even if the task running it is cancelled, so that the members
            # learn how it really ended.
            await asyncio.shield(commit)
        except BaseException:
            await asyncio.wait([commit])
            if commit.exception() is not None:
                await self._discard()
            _tell(members, commit.exception())
            raise
        _tell(members, None)

    async def _abort(self, exc: BaseException) -> None:
        members, self._members = self._members, []
        self._transaction = None
        await self._discard()
        _tell(members, exc)

    async def _discard(self) -> None:
        connection, self._connection, self._transaction = self._connection, None, None
        if connection is not None:
            try:
                await connection.invalidate()
            finally:
                await connection.close()

    async def close(self) -> None:
        """Commit what is pending and give the connection back."""
        async with self._lock:
            await self._finish()
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


def _tell(members: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Resolve the members' futures: durable (no error), or failed with ``error``."""
    for member in members:
        if member.done():
            continue
        if error is None:
            member.set_result(None)
        else:
            member.set_exception(error)
