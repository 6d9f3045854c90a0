"""The engine self-check run by ``payledger demo``: every step checks what it claims."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payledger.adapters.db.scan import scan_database
from payledger.bootstrap import Container
from payledger.domain.errors import CardDataRejected, RejectedError
from payledger.engine.jobs import Handler, Job, JobStatus, NewJob
from payledger.engine.schedule import Schedule, Scheduler
from payledger.engine.worker import Worker

JOBS = 1000


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


class _Ledger:
    """What the demo's handlers did, so the checks can compare it with the queue's account."""

    def __init__(self) -> None:
        self.effects: set[int] = set()
        self.order: dict[str, list[int]] = {}
        self.broken_fixed = False


def _handlers(ledger: _Ledger) -> dict[str, Handler]:
    async def apply(job: Job) -> None:
        if job.payload.get("flaky") and job.attempts < 2:
            raise ConnectionError("simulated timeout")
        ledger.effects.add(job.payload["n"])
        if job.ordering_key:
            ledger.order.setdefault(job.ordering_key, []).append(job.payload["n"])

    async def needs_fix(job: Job) -> None:
        if not ledger.broken_fixed:
            raise RejectedError("customer account missing in D365 (simulated)")
        ledger.effects.add(job.payload["n"])

    return {"demo.apply": apply, "demo.needs_fix": needs_fix}


async def run_self_check(
    container: Container, *, settings_dir: Path, say: Callable[[str], None]
) -> list[CheckResult]:
    results = [await _queue_check(container, say), await _inbox_check(container, say)]
    results.append(await _schedule_check(container, say))
    results.append(await _vault_check(container, say))
    results.append(await _scan_check(container, settings_dir, say))
    return results


async def _queue_check(container: Container, say: Callable[[str], None]) -> CheckResult:
    ledger = _Ledger()
    container.handlers.update(_handlers(ledger))
    jobs = [
        NewJob(
            "demo.apply",
            {"n": n, "flaky": n % 50 == 0},
            dedupe_key=f"demo-{n}",
            ordering_key=f"txn-{n % 7}" if n % 3 == 0 else None,
        )
        for n in range(JOBS)
    ] + [NewJob("demo.needs_fix", {"n": JOBS + n}, dedupe_key=f"fix-{n}") for n in range(5)]
    async with container.database.transaction() as conn:
        await container.queue.enqueue_many(conn, jobs)
        await container.queue.enqueue_many(conn, jobs[:100])  # re-delivered: ignored by dedupe key
    say(f"enqueued {len(jobs)} jobs (+100 duplicates, ignored), 20 flaky and 5 that need a fix")
    workers = [container.worker(name=f"demo-worker-{n}") for n in range(2)]
    await _drain(container, workers)
    async with container.database.transaction() as conn:
        dead_before = (await container.queue.counts(conn))[JobStatus.DEAD]
    say(f"two workers drained the queue; {dead_before} job(s) went to the dead letters")
    ledger.broken_fixed = True
    replayed = await container.queue.replay(actor="demo", kind="demo.needs_fix")
    await _drain(container, workers)
    say(f"after the 'fix', {replayed} dead job(s) were replayed and completed")
    async with container.database.transaction() as conn:
        counts = await container.queue.counts(conn)
    in_order = all(seq == sorted(seq) for seq in ledger.order.values())
    ok = (
        counts[JobStatus.DONE] == len(jobs)
        and len(ledger.effects) == len(jobs)
        and dead_before == 5
        and in_order
    )
    return CheckResult(
        "queue",
        ok,
        f"{counts[JobStatus.DONE]}/{len(jobs)} done once each; retries, "
        "dead letters, replay and per-key order held",
    )


async def _drain(container: Container, workers: list[Worker]) -> None:
    """Run the workers until no job is pending or running (retries included)."""
    while True:
        await asyncio.gather(*(w.run_until_idle() for w in workers))
        async with container.database.transaction() as conn:
            counts = await container.queue.counts(conn)
        if counts[JobStatus.PENDING] == counts[JobStatus.RUNNING] == 0:
            return


async def _inbox_check(container: Container, say: Callable[[str], None]) -> CheckResult:
    async def accept(external_id: str, payload: dict[str, Any]) -> bool:
        async with container.database.transaction() as conn:
            receipt = await container.inbox.accept(
                conn, source="demo", external_id=external_id, payload=payload, job_kind="demo.inbox"
            )
        return receipt.duplicate

    first, again = (
        await accept("txn-1:approved", {"amount": "12.00"}),
        await accept("txn-1:approved", {}),
    )
    try:
        await accept("txn-2", {"note": "card 4111 1111 1111 1111"})
        refused = False
    except CardDataRejected:
        refused = True
    say("inbox stored an event once, flagged its re-delivery, refused a payload with a card number")
    return CheckResult(
        "inbox", not first and again and refused, "deduplicated by (source, id); card data refused"
    )


async def _schedule_check(container: Container, say: Callable[[str], None]) -> CheckResult:
    nightly = Schedule(name="demo-nightly", cron="0 3 * * *", job_kind="demo.nightly")
    schedulers = [Scheduler(container.queue, [nightly], name=f"node-{n}") for n in range(3)]

    async def fire(scheduler: Scheduler) -> int:
        async with container.database.transaction() as conn:
            return len(await scheduler.fire_due(conn))

    fired = sum(await asyncio.gather(*(fire(s) for s in schedulers)))
    say(f"three schedulers raced for the same nightly tick; it fired {fired} time(s)")
    return CheckResult("schedules", fired == 1, "one tick fired once across three processes")


async def _vault_check(container: Container, say: Callable[[str], None]) -> CheckResult:
    await container.vault.set("demo-secret", "correct horse battery staple", actor="demo")
    rotated = await container.database_vault().rotate_master_key(actor="demo")
    value = (await container.vault.get("demo-secret")).get_secret_value()
    say(f"vault encrypted a secret, rotated the master key ({rotated} re-encrypted), read it back")
    return CheckResult(
        "vault", value == "correct horse battery staple", "encrypted at rest; key rotation kept it"
    )


async def _scan_check(
    container: Container, workdir: Path, say: Callable[[str], None]
) -> CheckResult:
    hits = [hit async for hit in scan_database(container.database)]
    say(f"scanned every stored value for card data: {len(hits)} hit(s)")
    return CheckResult("card data", not hits, "no card number anywhere in the database")
