"""A worker process of ``payledger bench billing``: the real container and job handlers, the
billing run sized for the bench.

``python -m payledger.bench.billing_worker CONFIG MAX_PER_RUN CONCURRENCY LEASE_S HOLD_S`` runs
every registered job kind like ``payledger worker`` does, except that ``subscriptions.bill``
runs with the bench's claim size, charges in flight and entry lease (the settings keep the
production defaults: 500, 4, 10 minutes), and that the hold a charge keeps on its invoice
lapses after ``HOLD_S`` (production: 5 minutes; a SIGKILLed worker's charges in flight keep
their invoices held that long). It runs no scheduler: the bench enqueues the billing runs
itself. Prints ``ready`` once it works; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import replace
from datetime import timedelta

from payledger.bootstrap import Container, build
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS, bill_command, billing_ports
from payledger.config import load_settings
from payledger.engine.jobs import Handler, Job
from payledger.flows.bill_subscriptions import BillSubscriptions, bill_subscriptions
from payledger.logs import configure_logging
from payledger.stores.charge_records import SqlChargeRecords


def bench_billing_job(container: Container, command: BillSubscriptions, hold: float) -> Handler:
    """The ``subscriptions.bill`` handler with ``command``'s sizes and the charge hold."""

    async def bill(job: Job) -> None:
        owner = f"bench-job-{job.id}:{os.getpid()}"
        ports = await billing_ports(container)
        records = ports.charging.records
        if isinstance(records, SqlChargeRecords):
            # No setting holds this (HOLD_LAPSES_AFTER): the bench shortens it alone.
            records._holds.ttl = timedelta(seconds=hold)
        await bill_subscriptions(replace(command, owner=owner), ports)

    return bill


async def main(
    config: str, max_per_run: int, concurrency: int, lease_seconds: float, hold_seconds: float
) -> None:
    settings = load_settings(config)
    log = settings.logging
    configure_logging(level=log.level, fmt=log.format, file=log.file, stderr=False)
    container = build(settings)
    command = replace(
        bill_command(settings, owner="bench"),
        max_per_run=max_per_run,
        concurrency=concurrency,
        lease=timedelta(seconds=lease_seconds),
    )
    container.handlers[BILL_SUBSCRIPTIONS] = bench_billing_job(container, command, hold_seconds)
    worker = container.worker(name=f"bench-billing-{os.getpid()}")
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, worker.stop)
    print("ready", flush=True)
    try:
        await worker.run()
    finally:
        await container.aclose()


if __name__ == "__main__":
    config, size, concurrency, lease, hold = sys.argv[1:6]
    asyncio.run(main(config, int(size), int(concurrency), float(lease), float(hold)))
