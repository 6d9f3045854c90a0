"""The gateway's own recurring schedules, as the import and the payment recognition see them,
and the subscriptions imported from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from payledger.domain.money import Money
from payledger.domain.subscriptions import Subscription
from payledger.domain.subscriptions_periods import Interval


@dataclass(frozen=True)
class GatewaySchedule:
    """A recurring schedule kept at the gateway (a PayTrace recurrence)."""

    id: str
    vault_customer_id: str
    amount: Money
    description: str
    starts_on: date
    """Its first run; its runs are counted (and months clamped) from here."""
    next_on: date | None
    """Its next run ("" at the gateway: None)."""
    interval: Interval | None
    """How often it runs in payledger's terms; None when payledger cannot bill it so."""
    refusal: str = ""
    """Why it cannot be imported (set when it cannot), in a sentence."""
    runs: int | None = None
    """How many runs it makes in all (None: until stopped)."""
    active: bool = True


class GatewaySchedules(Protocol):
    """The gateway's recurring schedules (PayTrace recurrences)."""

    async def schedules(self) -> list[GatewaySchedule]:
        """Every schedule the gateway exports, active or not."""
        ...

    async def stop(self, schedule_id: str) -> GatewaySchedule | None:
        """Delete the schedule at the gateway; returns it as it stood when stopped (its next
        run then tells the first period it did not charge), if the gateway says."""
        ...


class ImportedSubscriptions(Protocol):
    """Subscriptions imported from gateway schedules; every change is audited."""

    async def by_schedule(self, schedule_id: str) -> Subscription | None:
        """The subscription imported from ``schedule_id``, if any."""
        ...

    async def add_imported(
        self, subscription: Subscription, *, actor: str, detail: dict[str, Any]
    ) -> Subscription | None:
        """Store a subscription imported from its ``gateway_schedule_id``; None when one was
        imported from that schedule already (the first stays)."""
        ...

    async def take_over(
        self, subscription_id: int, *, next_period: int, actor: str
    ) -> Subscription:
        """payledger bills the subscription from now on, from ``next_period`` (or later, if
        its periods went further already)."""
        ...

    async def billed_by_gateway(self, vault_customer_id: str) -> list[Subscription]:
        """The subscriptions of this gateway customer that the gateway's schedules still bill."""
        ...

    async def record_gateway_charge(
        self, subscription_id: int, period_index: int, gateway_txn_id: str
    ) -> bool:
        """Record the period as paid by the gateway's schedule (its entry ``gateway_paid``,
        the subscription moved past it); False when the period has an entry already."""
        ...
