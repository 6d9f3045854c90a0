"""Serving ASGI apps with uvicorn: several at once, stopped together by SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
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
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn config for ``app`` that logs through payledger's logging (no access log)."""
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on", **options
    )
