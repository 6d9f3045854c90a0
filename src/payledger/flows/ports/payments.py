"""Where flows read payments from the gateway: as they change, a day at a time, one by id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from payledger.domain.events import PaymentObserved


class PaymentSource(Protocol):
    """Where payments are observed (the gateway's reporting API)."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        """Payments created or changed between two instants (a superset is fine)."""
        ...


class DailyPaymentSource(Protocol):
    """Where the payments of past days are read, a gateway-local day at a time (backfill)."""

    name: str
    """The inbox source name; the same as the poller's, so both store one event once."""

    async def observed_on(self, day: date) -> list[PaymentObserved]:
        """Every payment created on ``day`` (the gateway's own calendar), as it stands now."""
        ...


class PaymentLookup(Protocol):
    """Reads one payment's current state from the gateway by its transaction id."""

    name: str
    """The inbox source name, e.g. ``"paytrace"``."""

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        """The transaction as the gateway reports it now.

        Raises:
            RejectedError: the gateway does not know the transaction.
            TransientError: the gateway cannot be reached or answered with a fault.
        """
        ...
