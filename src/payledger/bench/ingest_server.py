"""The server of ``payledger bench ingest``: payledger's HTTP service plus a no-op route.

``python -m payledger.bench.ingest_server CONFIG PORT`` serves the app ``payledger serve``
serves (same uvicorn configuration, same middleware: request ids, size limit, card-data guard;
no embedded worker) with one extra route, ``POST /bench/noop``, which reads the body and
answers at once: the stack's own cost, against which ``POST /webhooks/paytrace`` is measured.
"""

from __future__ import annotations

import asyncio
import sys

from fastapi import Request

from payledger.bootstrap import build
from payledger.config import load_settings
from payledger.logs import configure_logging
from payledger.web.app import create_app
from payledger.web.serving import config, serve_together


async def serve(config_path: str, port: int) -> None:
    settings = load_settings(config_path)
    log = settings.logging
    configure_logging(level=log.level, fmt=log.format, file=log.file, stderr=False)
    container = build(settings)
    app = create_app(container, embedded_worker=False)

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "ok"}

    # Matched first, the webhook route second: the no-op pays for no more route matching than
    # the webhook does.
    app.router.routes.insert(0, app.router.routes.pop())

    try:
        await serve_together(config(app, "127.0.0.1", port))
    finally:
        await container.aclose()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
