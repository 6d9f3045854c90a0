"""Work the sandbox clock triggers: recurring charges at 12:30 a.m. PT and the daily cutoff."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from payledger.sandbox.paytrace import recurring, settlement
from payledger.sandbox.paytrace.clock import pacific_date, pacific_moment
from payledger.sandbox.paytrace.records import Recurrence, Transaction
from payledger.sandbox.paytrace.state import SandboxState


class Scheduler:
    """Runs everything that fell due between the last look and ``now``, oldest first."""

    def __init__(self, state: SandboxState, now: datetime) -> None:
        self.state = state
        self.checked_at = now
        self.next_cutoff = self._cutoff_after(now)

    def _cutoff_after(self, moment: datetime) -> datetime | None:
        cutoff = self.state.settings.daily_cutoff
        if cutoff is None:
            return None
        day = pacific_date(moment)
        candidate = pacific_moment(day, cutoff)
        return candidate if candidate > moment else pacific_moment(day + timedelta(days=1), cutoff)

    def _due_at(self, recurrence: Recurrence) -> datetime:
        assert recurrence.next_date is not None
        return pacific_moment(recurrence.next_date, self.state.settings.recurring_run_time)

    def catch_up(self, now: datetime) -> None:
        while True:
            due = recurring.due(self.state)
            first = min(due, key=self._due_at, default=None)
            recurrence_at = self._due_at(first) if first else None
            cutoff_at = self.next_cutoff
            if cutoff_at and cutoff_at <= now and (not recurrence_at or cutoff_at < recurrence_at):
                settlement.settle(self.state, cutoff_at)
                self.next_cutoff = self._cutoff_after(cutoff_at)
            elif first and recurrence_at and recurrence_at <= now:
                recurring.run_once(self.state, first, max(recurrence_at, self.checked_at))
            else:
                break
        self.checked_at = now

    def run_recurring(self, through: date, now: datetime) -> list[Transaction]:
        """Run every schedule due on or before Pacific date ``through``, stamped ``now``."""
        created: list[Transaction] = []
        for recurrence in recurring.due(self.state):
            while recurrence.active and recurrence.next_date and recurrence.next_date <= through:
                txn = recurring.run_once(self.state, recurrence, now)
                if txn is not None:
                    created.append(txn)
        return created
