"""What the dunning integration tests share: the retry schedule and dunning's ports over the
real store, the gateway, the ERP and the rest faked."""

from __future__ import annotations

from datetime import time

from payledger.adapters.db.database import Database
from payledger.config import DEFAULT_HARD_DECLINES, DEFAULT_SOFT_DECLINES
from payledger.domain.clock import Clock
from payledger.domain.dunning import DeclineTable
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.dunning import DunningParts, DunningPolicy, DunningPorts
from payledger.stores.dunning import SqlDunning
from tests.fakes import FakeCollectionsErp, FakeDunningNotices
from tests.fakes_charging import (
    FakeCardGateway,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)
from tests.fakes_orders import FakeAlerts

SCHEDULE = RetrySchedule((1, 3, 5, 7), time(10, 0), "America/Los_Angeles")


def sql_dunning_ports(
    database: Database,
    clock: Clock,
    gateway: FakeCardGateway,
    receivables: FakeReceivables,
    erp: FakeCollectionsErp | None = None,
) -> DunningPorts:
    """Dunning with the default decline table and :data:`SCHEDULE`, its cases in
    ``database``, charging through ``gateway`` the invoices ``receivables`` holds."""
    records = FakeChargeRecords()

    async def charging() -> ChargeContext:
        return ChargeContext(
            gateway, receivables, records, clock.now(), charge_requests(receivables)
        )

    return DunningPorts(
        store=SqlDunning(database, clock),
        parts=DunningParts(FakeDunningNotices(), erp or FakeCollectionsErp()),
        alerts=FakeAlerts(),
        clock=clock,
        policy=DunningPolicy(
            DeclineTable(tuple(DEFAULT_HARD_DECLINES), tuple(DEFAULT_SOFT_DECLINES)), SCHEDULE
        ),
        charging=charging,
    )
