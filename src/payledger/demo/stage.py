"""The demo's stage: both vendor sandboxes served on loopback inside the demo's own process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from payledger.bench.postgres import free_port
from payledger.sandbox.d365 import D365Sandbox, D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.faults import FaultSettings
from payledger.sandbox.paytrace import PayTraceSandbox, PayTraceSandboxSettings
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.web.serving import QuietSignalsServer, config

DISCRETIONARY_TITLES = ("D365 Order", "D365 Customer")
DEMO_LATENCY = FaultSettings(latency_ms=15, jitter_ms=10, per_operation_ms=2, capacity=16)
"""A light F&O latency model: fixed cost per request, a cost per batched operation, 16 slots."""


@dataclass
class Stage:
    paytrace_url: str
    d365_url: str
    certificate: Path
    paytrace: PayTraceSandbox
    d365: D365Sandbox


@asynccontextmanager
async def sandboxes(workdir: Path, *, seed: int = 7) -> AsyncIterator[Stage]:
    """Serve both sandboxes on free loopback ports until the block ends."""
    paytrace_port, d365_port = free_port(), free_port()
    certificate, key = write_self_signed_certificate(workdir / "tls")
    d365_url = f"https://127.0.0.1:{d365_port}"
    paytrace_app = create_paytrace(
        PayTraceSandboxSettings(seed=seed, discretionary_fields=DISCRETIONARY_TITLES)
    )
    d365_app = create_d365(
        D365SandboxSettings(base_url=d365_url, faults=DEMO_LATENCY, fault_seed=seed)
    )
    servers = [
        QuietSignalsServer(config(paytrace_app, "127.0.0.1", paytrace_port)),
        QuietSignalsServer(
            config(
                d365_app,
                "127.0.0.1",
                d365_port,
                ssl_certfile=str(certificate),
                ssl_keyfile=str(key),
            )
        ),
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                raise RuntimeError("a sandbox failed to start")
            await asyncio.sleep(0.02)
        yield Stage(
            paytrace_url=f"http://127.0.0.1:{paytrace_port}",
            d365_url=d365_url,
            certificate=certificate,
            paytrace=paytrace_app.state.sandbox,
            d365=d365_app.state.sandbox,
        )
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
