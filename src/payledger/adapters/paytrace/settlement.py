"""PayTrace's settlement reports as reconciliation sees them (the ``SettlementSource`` port).

Batches closed in the period come from the batch export and their members from each batch's
transaction list; the transactions created around the period come from the transaction
export with BINs, which also gives every card's type. Check (ACH) transactions settle without
a batch: those settled on a day of the period are reconciled under the batch label ``ACH``.
Declines, uncaptured authorizations and unfunded check holds never reach a ledger and are
left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.schemas import PayTraceCheckRecord, PayTraceTransaction
from payledger.adapters.paytrace.translate import (
    batch_from_export,
    event_key,
    kind_of,
    parse_pacific,
    payment_from_export,
)
from payledger.adapters.paytrace.translate_checks import (
    check_kind_of,
    check_txn_id,
    payment_from_check,
)
from payledger.domain import Money, PaymentKind, RejectedError
from payledger.domain.events import PaymentObserved
from payledger.domain.posting import LedgerOperation
from payledger.domain.reconcile import GatewayTxn, TxnState
from payledger.flows.ports import Progress, Settlement

_STATES = {"SETTLED": TxnState.SETTLED, "PENDING": TxnState.PENDING, "VOIDED": TxnState.VOIDED}
ACH = "ACH"
"""Card type and batch label of check (ACH) transactions, which PayTrace settles without a
batch number."""


def card_type_of(masked_number: str) -> str:
    """The card scheme from the BIN of an export's masked number (``""`` without a BIN)."""
    head = masked_number[:6]
    if len(head) < 6 or not head.isdigit():
        return ""
    two, three, four, six = int(head[:2]), int(head[:3]), int(head[:4]), int(head)
    if head[0] == "4":
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if four == 6011 or two == 65 or 644 <= three <= 649 or 622126 <= six <= 622925:
        return "DISCOVER"
    if 3528 <= four <= 3589:
        return "JCB"
    if 300 <= three <= 305 or two in (36, 38):
        return "DINERS"
    return "OTHER"


class PayTraceSettlement:
    """Implements ``SettlementSource`` with the PayTrace v1 exports."""

    def __init__(self, client: PayTraceClient, *, customer_title: str = "D365 Customer") -> None:
        self.client = client
        self.customer_title = customer_title
        self._checks: dict[str, PayTraceCheckRecord] = {}

    def _day(self, text: str) -> int:
        return parse_pacific(text, self.client.tz).astimezone(self.client.tz).date().toordinal()

    def _txn(
        self,
        record: PayTraceTransaction,
        *,
        card_type: str,
        batch: str = "",
        settled_day: int = 0,
        in_period: bool = False,
    ) -> GatewayTxn | None:
        state = _STATES.get(record.status_code.upper())
        kind = kind_of(record)
        if state is None or (kind is PaymentKind.AUTHORIZATION and state is not TxnState.VOIDED):
            return None
        if state is TxnState.SETTLED and not settled_day and record.settled:
            settled_day = self._day(record.settled)
        currency = self.client.currency
        return GatewayTxn(
            txn_id=str(record.transaction_id),
            operation=LedgerOperation.REFUND
            if kind is PaymentKind.REFUND
            else LedgerOperation.PAYMENT,
            state=state,
            amount=Money(record.amount, currency).minor,
            currency=currency,
            batch=batch or str(record.batch_number or ""),
            settled_day=settled_day if state is TxnState.SETTLED else 0,
            created_day=self._day(record.created.at) if record.created.at else settled_day,
            card_type=card_type or card_type_of(record.credit_card.masked_number),
            customer=record.discretionary_data.get(self.customer_title, "").upper(),
            in_period=in_period,
        )

    async def settlement(
        self, first: date, last: date, window: tuple[date, date], progress: Progress
    ) -> Settlement:
        around, checks = await self._created_between(*window, progress)
        batches = await self.client.export_batches(first, last)
        txns: list[GatewayTxn] = []
        settled: set[int] = set()
        for done, summary in enumerate(batches, 1):
            batch = batch_from_export(summary, currency=self.client.currency, tz=self.client.tz)
            day = batch.settled_at.astimezone(self.client.tz).date().toordinal()
            for record in await self.client.batch_transactions(summary.batch_number):
                seen = around.get(record.transaction_id)
                card = card_type_of(seen.credit_card.masked_number) if seen else ""
                if not card:
                    card = await self._card_type(record.transaction_id)
                txn = self._txn(
                    record, card_type=card, batch=batch.number, settled_day=day, in_period=True
                )
                if txn is not None:
                    txns.append(txn)
                    settled.add(record.transaction_id)
            progress("PayTrace batches", done, len(batches))
        for record in around.values():
            if record.transaction_id not in settled:
                txn = self._txn(record, card_type="")
                if txn is not None:
                    txns.append(txn)
        period = (first.toordinal(), last.toordinal())
        txns += [t for t in (self._check_txn(c, period) for c in checks) if t is not None]
        return Settlement(
            [
                batch_from_export(b, currency=self.client.currency, tz=self.client.tz)
                for b in batches
            ],
            txns,
        )

    async def _created_between(
        self, first: date, last: date, progress: Progress
    ) -> tuple[dict[int, PayTraceTransaction], list[PayTraceCheckRecord]]:
        progress("PayTrace transactions around the period", 0, 2)
        cards = await self.client.export_transactions(first, last, include_bin=True)
        progress("PayTrace transactions around the period", 1, 2)
        checks = await self.client.export_checks(first, last)
        progress("PayTrace transactions around the period", 2, 2)
        return {record.transaction_id: record for record in cards}, checks

    def _check_txn(self, record: PayTraceCheckRecord, period: tuple[int, int]) -> GatewayTxn | None:
        state = _STATES.get(record.status_code.upper())
        kind = check_kind_of(record)
        if state is None or kind is PaymentKind.AUTHORIZATION:
            return None
        txn_id = check_txn_id(record.check_transaction_id)
        self._checks[txn_id] = record
        settled_day = (
            self._day(record.settled) if state is TxnState.SETTLED and record.settled else 0
        )
        currency = self.client.currency
        return GatewayTxn(
            txn_id=txn_id,
            operation=LedgerOperation.REFUND
            if kind is PaymentKind.ACH_REFUND
            else LedgerOperation.PAYMENT,
            state=state,
            amount=Money(record.amount, currency).minor,
            currency=currency,
            batch=ACH if settled_day else "",
            settled_day=settled_day,
            created_day=self._day(record.created.at) if record.created.at else settled_day,
            card_type=ACH,
            customer=record.discretionary_data.get(self.customer_title, "").upper(),
            in_period=period[0] <= settled_day <= period[1],
        )

    async def _card_type(self, transaction_id: int) -> str:
        record = await self.client.export_transaction(transaction_id, include_bin=True)
        return card_type_of(record.credit_card.masked_number)

    async def transactions(
        self, txn_ids: Sequence[str], first: date, last: date
    ) -> list[GatewayTxn]:
        found = []
        for txn_id in txn_ids:
            if not txn_id.isdigit():
                continue
            try:
                record = await self.client.export_transaction(int(txn_id), include_bin=True)
            except RejectedError:
                continue  # PayTrace does not know it: it stays missing in PayTrace
            txn = self._txn(record, card_type="")
            if txn is not None:
                found.append(txn)
        return found

    async def observe(self, txn_id: str) -> PaymentObserved:
        check = self._checks.get(txn_id)
        if check is not None:
            payment = payment_from_check(check, currency=self.client.currency, tz=self.client.tz)
            return PaymentObserved(event_key(payment), payment)
        if not txn_id.isdigit():
            raise RejectedError(
                f"{txn_id!r} is not a PayTrace card transaction id",
                system="paytrace",
                operation="export_by_id",
            )
        record = await self.client.export_transaction(int(txn_id))
        payment = payment_from_export(record, currency=self.client.currency, tz=self.client.tz)
        return PaymentObserved(event_key(payment), payment)
