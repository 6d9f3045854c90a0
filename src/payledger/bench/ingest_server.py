"""The server of ``payledger bench ingest``: payledger's HTTP service plus a no-op endpoint.

``python -m payledger.bench.ingest_server CONFIG PORT`` serves the app ``payledger serve``
serves (same uvicorn configuration, same middleware: request ids, size limit, card-data
guard) with one extra route, ``POST /bench/noop``, that reads the body and answers at once,
so the two endpoints differ only in what the webhook does.
"""

from __future__ import annotations

import asyncio
import sys

from fastapi import Request

from payledger.bootstrap import build
from payledger.cli.common import setup_logging
from payledger.cli.serving import config, serve_together
from payledger.config import load_settings
from payledger.web.app import create_app


async def serve(config_path: str, port: int) -> None:
    settings = load_settings(config_path)
    setup_logging(settings, stderr=False)
    container = build(settings)
    app = create_app(container, embedded_worker=False)

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "ok"}

    try:
        await serve_together(config(app, "127.0.0.1", port))
    finally:
        await container.aclose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
