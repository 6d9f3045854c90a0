"""A small HTTP/1.1 load generator on raw asyncio streams, for ``payledger bench ingest``.

httpx spends more CPU per request than the server under test on these 2 cores, so the load
would measure the client; this one writes pre-built request bytes on keep-alive connections
and reads just the status line, headers and ``Content-Length`` body.

* :func:`closed_loop`: ``connections`` clients each send their next request as soon as the
  previous answer arrives (throughput).
* :func:`open_loop`: requests are due at a fixed rate whatever the server does; latency counts
  from when a request was due, so a slow server's queueing is not hidden (no coordinated
  omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Build = Callable[[int], bytes]
"""Request ``i``'s bytes (built when it is sent, so signatures carry a fresh timestamp)."""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    """Seconds from when each request was due (open loop) or sent (closed loop) to its answer."""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for status, n in self.statuses.items() if predicate(status))


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> int:
        """Send one request, read its whole answer; returns the status code."""
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _connections(host: str, port: int, count: int) -> list[Connection]:
    return list(await asyncio.gather(*(Connection.open(host, port) for _ in range(count))))


async def closed_loop(
    host: str, port: int, build: Build, requests: int, connections: int
) -> LoadResult:
    """Send ``requests`` requests over ``connections`` keep-alive connections, back to back."""
    pool = await _connections(host, port, connections)
    result = LoadResult(requests=requests, seconds=0.0)
    next_index = iter(range(requests))

    async def client(connection: Connection) -> None:
        for index in next_index:
            sent = time.perf_counter()
            status = await connection.exchange(build(index))
            result.latencies.append(time.perf_counter() - sent)
            result.statuses[status] = result.statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in pool))
    result.seconds = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in pool))
    return result


async def open_loop(
    host: str, port: int, build: Build, *, rate: float, seconds: float, connections: int
) -> LoadResult:
    """Requests due every ``1/rate`` s for ``seconds``; each waits for a free connection."""
    total = int(rate * seconds)
    pool = await _connections(host, port, connections)
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in pool:
        free.put_nowait(connection)
    result = LoadResult(requests=total, seconds=0.0)
    started = time.perf_counter()

    async def one(index: int, due: float) -> None:
        connection = await free.get()
        try:
            status = await connection.exchange(build(index))
        finally:
            free.put_nowait(connection)
        result.latencies.append(time.perf_counter() - due)
        result.statuses[status] = result.statuses.get(status, 0) + 1

    tasks: list[asyncio.Task[None]] = []
    for index in range(total):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in pool))
    return result


def post(path: str, body: bytes, headers: Sequence[tuple[str, str]], host: str) -> bytes:
    """The bytes of one ``POST`` with a JSON body."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
