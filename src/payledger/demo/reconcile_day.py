"""The demo's evening: the batch cutoff, then the settlement reconciliation of the day.

Three sales arrive after the last poll, so D365 lacks them when the day is reconciled: the
run reports them missing in D365 and heals them through the inbox; the batches' deposits
are enqueued. Workers post what the run enqueued, and a second run verifies the heals and
finds nothing left to report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from sqlalchemy import func, select

from payledger.adapters.db.tables import jobs, postings
from payledger.bootstrap import Container, reconcile_parts
from payledger.config import FeeRuleSettings, ReconcileSettings
from payledger.demo.day import Shop
from payledger.engine.jobs import JobStatus
from payledger.flows.reconcile_period import run_reconciliation
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS
from payledger.stores.reconciliation import POST_DEPOSIT

Say = Callable[[str], None]
LATE_SALES = 3
FEE_ACCOUNT = "618160"
"""A main account of the sandbox's chart used as the gateway fee expense account."""


def demo_reconcile_settings() -> ReconcileSettings:
    """Deposits on, with a typical card fee schedule."""
    return ReconcileSettings(
        deposits=True,
        fees={
            "VISA": FeeRuleSettings(percent=Decimal("2.9"), fixed=Decimal("0.30")),
            "MASTERCARD": FeeRuleSettings(percent=Decimal("2.7"), fixed=Decimal("0.30")),
            "AMEX": FeeRuleSettings(percent=Decimal("3.5"), fixed=Decimal("0.15")),
            "DISCOVER": FeeRuleSettings(percent=Decimal("2.9"), fixed=Decimal("0.30")),
        },
    )


@dataclass
class DayReconciliation:
    day: date
    first: dict[str, Any]
    """The report of the run right after the cutoff."""
    second: dict[str, Any]
    """The report of the run after the workers posted the heals and deposits."""
    late_sales: list[int]
    deposit_journals: int
    seconds: float

    @property
    def ok(self) -> bool:
        """The late sales were found missing and healed, and nothing is left to report."""
        found = {
            item["txn_id"] for item in self.first["items"] if item["class"] == "missing_in_d365"
        }
        return (
            found == {str(txn) for txn in self.late_sales}
            and self.first["exceptions"] == len(self.late_sales)
            and self.second["exceptions"] == 0
            and self.second["heals"].get("verified_from_earlier_runs") == len(self.late_sales)
        )


async def reconcile_the_day(container: Container, shop: Shop, say: Say) -> DayReconciliation:
    started = time.monotonic()
    tz = ZoneInfo(container.settings.paytrace.timezone)
    say(f"evening: {LATE_SALES} more sales after the last poll, then PayTrace's batch cutoff")
    await shop.sales(LATE_SALES)
    late = shop.traffic.sales[-LATE_SALES:]
    await shop.settle()
    day = container.clock.now().astimezone(tz).date()
    first = (
        await run_reconciliation(day, day, await reconcile_parts(container), trigger="demo")
    ).report
    counts = first["counts"]
    say(
        f"reconciliation of {day} (run {first['run']}): {counts['matched']} matched, "
        f"{counts['missing_in_d365']} missing in D365 (healed through the inbox), "
        f"{first['exceptions']} exception(s); deposits of {len(_card_batches(first))} batch(es) "
        "enqueued"
    )
    await _work_off(container, within=60)
    second = (
        await run_reconciliation(day, day, await reconcile_parts(container), trigger="demo")
    ).report
    verified = second["heals"].get("verified_from_earlier_runs", 0)
    say(
        f"after the workers posted them (run {second['run']}): {verified} heal(s) verified, "
        f"{second['exceptions']} exception(s)"
    )
    journals = sum(1 for b in _card_batches(second) if b["deposit"] == "posted")
    return DayReconciliation(day, first, second, late, journals, time.monotonic() - started)


def _card_batches(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in report["totals"]["by_batch"] if b["batch"] != "ACH"]


async def _work_off(container: Container, *, within: float) -> None:
    """Run workers until the heals and deposits the run enqueued are written (alerts and
    other scheduled jobs are not waited for)."""
    kinds = (PROCESS_PAYMENT, FLUSH_JOURNALS, POST_DEPOSIT)
    busy = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
    workers = [container.worker(name=f"demo-evening-{n}") for n in range(2)]
    running = [asyncio.create_task(worker.run()) for worker in workers]
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            async with container.database.transaction() as conn:
                waiting = await conn.scalar(
                    select(func.count()).where(jobs.c.kind.in_(kinds), jobs.c.status.in_(busy))
                )
                owed = await conn.scalar(
                    select(func.count()).where(
                        postings.c.state.in_(("planned", "sending", "unknown"))
                    )
                )
            if not waiting and not owed:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the evening's postings did not settle within {within:.0f} s")
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*running, return_exceptions=True)


def reconciliation_table(rec: DayReconciliation) -> Table:
    """The evening in one table: both runs side by side."""
    title = f"reconciliation of {rec.day} in {rec.seconds:.1f} s"
    table = Table("", "after the cutoff", "after the heal", title=title)
    first, second = rec.first, rec.second
    for kind in first["counts"]:
        if first["counts"][kind] or second["counts"][kind]:
            table.add_row(
                kind.replace("_", " "), str(first["counts"][kind]), str(second["counts"][kind])
            )
    table.add_row("exceptions", str(first["exceptions"]), str(second["exceptions"]))
    heals = first["heals"]
    table.add_row(
        "auto-heal",
        ", ".join(f"{k} {v}" for k, v in sorted(heals.items())) or "-",
        f"verified {second['heals'].get('verified_from_earlier_runs', 0)}",
    )
    table.add_row(
        "deposit journals (clearing -> bank, fees)",
        ", ".join(f"{b['batch']}: {b['deposit']}" for b in _card_batches(first)),
        ", ".join(f"{b['batch']}: {b['deposit']}" for b in _card_batches(second)),
    )
    table.caption = (
        f"runs {first['run']} and {second['run']}: payledger reconcile show RUN "
        "(--format json|csv|html)"
    )
    return table
