"""Serving ASGI apps with uvicorn: several at once, stopped together by SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn


class QuietSignalsServer(uvicorn.Server):
    """A server that leaves signal handling to its owner (:func:`serve_together`, the demo)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_together(*configs: uvicorn.Config) -> None:
    """Serve every config until SIGTERM/SIGINT, then shut all down gracefully and return.

    uvicorn on its own re-raises the signal after shutting down (exit status -15); payledger
    exits 0 after a clean shutdown, like any well-behaved service.
    """
    servers = [QuietSignalsServer(config) for config in configs]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    freezing = asyncio.create_task(_freeze_after_startup(servers))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        freezing.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _freeze_after_startup(servers: list[QuietSignalsServer]) -> None:
    """Once every server has started, move what startup built (modules, the app, schema,
    pools: objects that live as long as the process) out of the garbage collector's sight.
    Otherwise each full collection walks all of them again, a pause of a tenth of a second
    every few thousand requests that the requests pay for in CPU and latency."""
    while not all(server.started for server in servers):  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.05)
    gc.collect()
    gc.freeze()


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn config for ``app`` that logs through payledger's logging (no access log)."""
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on", **options
    )
