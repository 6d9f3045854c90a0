"""Fakes of the flows' ports: they record what happened and take fault knobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from payledger.domain.events import PaymentObserved, Recorded


class FakePaymentSource:
    name = "fakepay"

    def __init__(self, events: list[PaymentObserved] | None = None) -> None:
        self.events = list(events or [])
        self.asked: list[tuple[datetime, datetime]] = []

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        self.asked.append((since, until))
        return list(self.events)


class FakePaymentEventStore:
    def __init__(self, fail_next: list[Exception] | None = None) -> None:
        self.events: dict[tuple[str, str], PaymentObserved] = {}
        self.watermarks: dict[str, datetime] = {}
        self._fail_next = list(fail_next or [])

    async def watermark(self, name: str) -> datetime | None:
        return self.watermarks.get(name)

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        if self._fail_next:
            raise self._fail_next.pop(0)
        new = 0
        for event in events:
            new += (source, event.event_id) not in self.events
            self.events.setdefault((source, event.event_id), event)
        self.watermarks[watermark[0]] = watermark[1]
        return Recorded(new=new, duplicates=len(events) - new)
