"""The ``GatewaySchedules`` port on PayTrace recurrences (fact sheet §4.16): exported with
``recurrence/export_scheduled``, stopped with ``recurrence/delete``.

PayTrace's frequency codes become payledger intervals: ``1`` yearly, ``8`` every 6 months,
``A`` every 4, ``2`` every 3, ``9`` every 2, ``3`` monthly, ``4`` every 2 weeks, ``5`` weekly,
``6`` daily, and ``7`` (the 1st and the 15th) the cron rule ``0 0 1,15 * *``. ``total_count``
999 means "until stopped".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.schemas import PayTraceRecurrence
from payledger.domain import RejectedError
from payledger.domain.money import Money
from payledger.domain.subscriptions_periods import Interval, IntervalUnit
from payledger.flows.ports import GatewaySchedule

INDEFINITE = 999
"""``total_count`` of a schedule that runs until it is stopped."""
FIRST_AND_FIFTEENTH = "0 0 1,15 * *"

INTERVALS: dict[str, Interval] = {
    "1": Interval(IntervalUnit.YEAR, 1),
    "8": Interval(IntervalUnit.MONTH, 6),
    "A": Interval(IntervalUnit.MONTH, 4),
    "2": Interval(IntervalUnit.MONTH, 3),
    "9": Interval(IntervalUnit.MONTH, 2),
    "3": Interval(IntervalUnit.MONTH, 1),
    "4": Interval(IntervalUnit.WEEK, 2),
    "5": Interval(IntervalUnit.WEEK, 1),
    "6": Interval(IntervalUnit.DAY, 1),
    "7": Interval(rule=FIRST_AND_FIFTEENTH),
}
"""PayTrace frequency code -> payledger interval."""


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        return None


def _refusal(record: PayTraceRecurrence, interval: Interval | None) -> str:
    if interval is None:
        return f"PayTrace frequency code {record.frequency!r} is not one payledger knows"
    if record.transaction_type.lower().startswith("auth"):
        return "it authorizes without capturing; payledger bills sales only"
    if record.amount is None:
        return "PayTrace exported it without an amount"
    if _day(record.start_date) is None:
        return f"its start date {record.start_date!r} is not MM/DD/YYYY"
    return ""


def schedule_from_recurrence(record: PayTraceRecurrence, currency: str) -> GatewaySchedule:
    """A :class:`GatewaySchedule` from one exported recurrence."""
    interval = INTERVALS.get(record.frequency.strip().upper())
    refusal = _refusal(record, interval)
    starts_on = _day(record.start_date) or date.min
    count = record.total_count
    return GatewaySchedule(
        id=str(record.id),
        vault_customer_id=record.customer_id,
        amount=Money(record.amount if record.amount is not None else Decimal(0), currency),
        description=record.description or f"Recurring payment (PayTrace recurrence {record.id})",
        starts_on=starts_on,
        next_on=_day(record.next_date),
        interval=None if refusal else interval,
        refusal=refusal,
        runs=None if count is None or count == INDEFINITE else count,
        active=record.status.strip().upper() == "ACTIVE",
    )


class PayTraceSchedules:
    """Implements ``flows.ports.GatewaySchedules`` with a :class:`PayTraceClient`."""

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client

    async def schedules(self) -> list[GatewaySchedule]:
        found = await self.client.export_recurrences()
        return [schedule_from_recurrence(r, self.client.currency) for r in found]

    async def stop(self, schedule_id: str) -> GatewaySchedule | None:
        try:
            stopped = await self.client.delete_recurrence(int(schedule_id))
        except RejectedError:
            # already deleted (an earlier take-over that was cut off): fine when it is gone
            still = [s for s in await self.schedules() if s.id == schedule_id]
            if any(s.active for s in still):
                raise
            return still[0] if still else None
        mine = [r for r in stopped if str(r.id) == schedule_id]
        return schedule_from_recurrence(mine[0], self.client.currency) if mine else None
