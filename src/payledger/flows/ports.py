"""The ports flows depend on; adapters implement them, ``bootstrap`` wires them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from payledger.domain.events import PaymentObserved, Recorded


class PaymentSource(Protocol):
    """Where payments are observed (the gateway's reporting API)."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        """Payments created or changed between two instants (a superset is fine)."""
        ...


class PaymentEventStore(Protocol):
    """Durable, deduplicated storage of observed payments plus the poll watermark."""

    async def watermark(self, name: str) -> datetime | None:
        """Where the last complete poll of ``name`` ended, if it ever ran."""
        ...

    async def record(
        self, source: str, events: Sequence[PaymentObserved], *, watermark: tuple[str, datetime]
    ) -> Recorded:
        """Store the events (duplicates ignored) and move the watermark, in one transaction."""
        ...
