"""PayTrace as the flows see it: implements the ``PaymentSource`` port on the export API."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.translate import event_key, lookup_window, payment_from_export
from payledger.adapters.paytrace.translate_checks import payment_from_check
from payledger.domain import Payment, RejectedError
from payledger.domain.events import PaymentObserved


class PayTraceGateway:
    """Observes payments through exports by date range, one vendor-local day per request."""

    name = "paytrace"

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client

    async def payments_on(self, day: date) -> list[Payment]:
        """Every card and check (ACH) transaction created on one vendor-local day."""
        export = await self.client.export_payments(day, day)
        currency, tz = self.client.currency, self.client.tz
        through = self.client.paths.recurring_through
        cards = [
            payment_from_export(r, currency=currency, tz=tz, recurring_through=through)
            for r in export.transactions
        ]
        checks = [payment_from_check(r, currency=currency, tz=tz) for r in export.checks]
        return cards + checks

    async def payment_by_id(self, transaction_id: str) -> PaymentObserved:
        """One card transaction as PayTrace reports it now (export by id).

        Raises:
            RejectedError: PayTrace does not know it (error 811) or ``transaction_id`` is not
                a PayTrace id.
        """
        if not transaction_id.isdigit():
            raise RejectedError(
                f"{transaction_id!r} is not a PayTrace transaction id",
                system="paytrace",
                operation="export_by_id",
            )
        record = await self.client.export_transaction(int(transaction_id))
        payment = payment_from_export(
            record,
            currency=self.client.currency,
            tz=self.client.tz,
            recurring_through=self.client.paths.recurring_through,
        )
        return PaymentObserved(event_key(payment), payment)

    async def observed_on(self, day: date) -> list[PaymentObserved]:
        """The payments of ``day`` keyed like the poller's events (``DailyPaymentSource``)."""
        payments = await self.payments_on(day)
        return [PaymentObserved(event_key(payment), payment) for payment in payments]

    async def payments_changed(self, since: datetime, until: datetime) -> list[PaymentObserved]:
        """Every transaction created on the vendor-local days covering ``since``..``until``.

        PayTrace's export filters by creation date, and a transaction changes state
        (captured, voided, settled) after it was created, so the window is widened by a day on
        each side; events are deduplicated downstream by their state-bearing ids.
        """
        first, last = lookup_window(since, until, self.client.tz)
        observed: list[PaymentObserved] = []
        day = first
        while day <= last:
            for payment in await self.payments_on(day):
                observed.append(PaymentObserved(event_key(payment), payment))
            day += timedelta(days=1)
        return observed
