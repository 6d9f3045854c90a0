"""Fakes of the charging ports: a card gateway, the ERP's receivables and payledger's records."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, final

from payledger.config import Settings
from payledger.domain.charges import (
    CardOnFile,
    CardSource,
    ChargeRecord,
    ChargeReferences,
    PaymentEvent,
    PaymentState,
    Receivable,
    ReceivableKind,
)
from payledger.domain.errors import AmbiguousOutcome
from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money
from payledger.flows.charge_request import ChargeRequests
from payledger.flows.ports import CardGateway, ChargeAttempts, ChargeRecords, ErpRows, Receivables
from payledger.mapping import (
    StaticCatalog,
    Template,
    compile_template,
    default_template,
    paytrace_entities,
)
from payledger.templates import template_settings

WHEN = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
DECLINED_AMOUNT = Money.of("1.12")


def charge_requests(
    rows: ErpRows, template: Template | None = None, settings: Settings | None = None
) -> ChargeRequests:
    """Charge requests built with ``template`` (default: the default charge request template)
    under ``settings``, as bootstrap compiles it."""
    settings = settings or Settings()
    compiled = compile_template(
        template or default_template("paytrace_transaction_request"),
        template_settings(settings),
        StaticCatalog.of(paytrace_entities(settings.paytrace.discretionary_titles)),
    )
    return ChargeRequests(compiled, rows)


@final
class FakeCardGateway(CardGateway):
    """Approves everything but 1.12 (declined) and the charges ``decline_next`` declines,
    numbering transactions from 1001."""

    source_name = "fakepay"
    currency = "USD"

    def __init__(
        self, fail_next: list[Exception] | None = None, decline_next: list[str] | None = None
    ) -> None:
        self.decline_next = list(decline_next or [])
        """Decline texts of the next charges, whatever their amount (one used per charge)."""
        self.calls: list[tuple[str, Money]] = []
        self.requests: list[Mapping[str, Any]] = []
        """The request of each charge, as the flow mapped it."""
        self.lost_charges: list[Payment] = []
        """Charges made by an earlier, interrupted attempt (found by :meth:`find_charge`)."""
        self.refunds: list[Payment] = []
        """Refunds made, found by :meth:`find_refund`."""
        self.lose_next_refund = False
        """The next refund is made but its answer is lost (raises ``AmbiguousOutcome``)."""
        self._next = 1001
        self._fail_next = list(fail_next or [])

    def _txn(self) -> str:
        self._next += 1
        return str(self._next - 1)

    def _payment(self, txn: str, kind: PaymentKind, amount: Money, **extra: object) -> Payment:
        if self._fail_next:
            raise self._fail_next.pop(0)
        declined = amount == DECLINED_AMOUNT
        return Payment(
            txn,
            kind,
            PaymentStatus.DECLINED if declined else PaymentStatus.APPROVED,
            amount,
            WHEN,
            outcome=Outcome.SOFT_DECLINE if declined else Outcome.APPROVED,
            message="Declined. Do not honor." if declined else "Approved.",
            **extra,  # type: ignore[arg-type]
        )

    async def charge(
        self,
        amount: Money,
        card: CardSource,
        *,
        capture: bool,
        refs: ChargeReferences,
        request: Mapping[str, Any],
    ) -> Payment:
        self.calls.append(("sale" if capture else "authorization", amount))
        self.requests.append(request)
        kind = PaymentKind.SALE if capture else PaymentKind.AUTHORIZATION
        payment = self._payment(self._txn(), kind, amount, invoice_ref=refs.invoice_number)
        if self.decline_next:
            text = self.decline_next.pop(0)
            payment = replace(
                payment,
                status=PaymentStatus.DECLINED,
                outcome=Outcome.SOFT_DECLINE,
                message=f"Declined by the card issuer. {text}.",
            )
        return payment

    async def capture(self, original: ChargeRecord, amount: Money) -> Payment:
        self.calls.append(("capture", amount))
        return self._payment(original.gateway_txn_id, PaymentKind.CAPTURE, amount)

    async def void(self, original: ChargeRecord) -> Payment:
        self.calls.append(("void", original.amount))
        payment = self._payment(original.gateway_txn_id, original.kind, original.amount)
        return replace(payment, status=PaymentStatus.VOIDED)

    async def refund(self, original: ChargeRecord, amount: Money) -> Payment:
        self.calls.append(("refund", amount))
        payment = self._payment(
            self._txn(), PaymentKind.REFUND, amount, original_txn_id=original.gateway_txn_id
        )
        self.refunds.append(payment)
        if self.lose_next_refund:
            self.lose_next_refund = False
            raise AmbiguousOutcome("answer lost", system="fakepay", operation="refund")
        return payment

    async def find_refund(
        self, original: ChargeRecord, amount: Money, since: datetime
    ) -> Payment | None:
        found = [
            p
            for p in self.refunds
            if p.original_txn_id == original.gateway_txn_id and p.amount == amount
        ]
        return found[-1] if found else None

    async def find_charge(self, refs: ChargeReferences, since: datetime) -> Payment | None:
        found = [p for p in self.lost_charges if p.invoice_ref == refs.invoice_number]
        return found[-1] if found else None

    def event_id(self, payment: Payment) -> str:
        return f"fakepay:{payment.gateway_txn_id}:{payment.kind.value}:{payment.status.value}"


@final
class FakeReceivables(Receivables):
    """Invoices, orders, cards on file and ERP rows as a test puts them; ``rows_fail`` makes
    reading rows raise it, ``rows_delay`` makes it take that many seconds."""

    def __init__(self, rows_fail: Exception | None = None, rows_delay: float = 0.0) -> None:
        self.rows_fail, self.rows_delay = rows_fail, rows_delay
        self.receivables: dict[tuple[ReceivableKind, str], Receivable] = {}
        self.cards: dict[str, CardOnFile] = {}
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        """ERP rows by (enrichment name, key): ``("d365_customer", "US-001")``."""
        self.rows_read: list[tuple[str, str]] = []
        """Each row asked for, in order."""

    def invoice_of(self, number: str, total: str, account: str = "US-001", **extra: object) -> None:
        self.receivables[(ReceivableKind.INVOICE, number)] = Receivable(
            ReceivableKind.INVOICE,
            number,
            account,
            Money.of(total),
            **extra,  # type: ignore[arg-type]
        )

    def order_of(self, number: str, total: str, account: str = "US-001", **extra: object) -> None:
        self.receivables[(ReceivableKind.SALES_ORDER, number)] = Receivable(
            ReceivableKind.SALES_ORDER, number, account, Money.of(total),
            sales_order_number=number, **extra,  # type: ignore[arg-type]
        )  # fmt: skip

    async def invoice(self, number: str) -> Receivable | None:
        return self.receivables.get((ReceivableKind.INVOICE, number))

    async def sales_order(self, number: str) -> Receivable | None:
        return self.receivables.get((ReceivableKind.SALES_ORDER, number))

    async def card_on_file(self, customer_account: str) -> CardOnFile | None:
        return self.cards.get(customer_account)

    async def erp_rows(
        self,
        needs: Collection[str],
        *,
        customer_account: str = "",
        sales_order_number: str = "",
        invoice_number: str = "",
    ) -> dict[str, Mapping[str, Any]]:
        keys = {
            "d365_customer": customer_account,
            "d365_order": sales_order_number,
            "d365_invoice": invoice_number,
        }
        if self.rows_delay:
            await asyncio.sleep(self.rows_delay)
        if self.rows_fail is not None:
            raise self.rows_fail
        found: dict[str, Mapping[str, Any]] = {}
        for need in needs:
            if keys.get(need):
                self.rows_read.append((need, keys[need]))
                if (need, keys[need]) in self.rows:
                    found[need] = self.rows[(need, keys[need])]
        return found


@final
class FakeChargeRecords(ChargeRecords):
    def __init__(self, fail_saves: list[Exception] | None = None) -> None:
        self.records: dict[str, ChargeRecord] = {}
        self.events: list[PaymentEvent] = []
        self.audit: list[tuple[str, str, str]] = []
        self.held: set[tuple[ReceivableKind, str]] = set()
        self._fail_saves = list(fail_saves or [])

    async def get(self, gateway_txn_id: str) -> ChargeRecord | None:
        return self.records.get(gateway_txn_id)

    async def hold(self, kind: ReceivableKind, number: str) -> bool:
        if (kind, number) in self.held:
            return False
        self.held.add((kind, number))
        return True

    async def release(self, kind: ReceivableKind, number: str) -> None:
        self.held.discard((kind, number))

    async def for_receivable(self, kind: ReceivableKind, number: str) -> list[ChargeRecord]:
        def matches(record: ChargeRecord) -> bool:
            if kind is ReceivableKind.INVOICE:
                return record.invoice_number == number
            return record.sales_order_number == number

        return [r for r in self.records.values() if matches(r)]

    async def save(
        self, record: ChargeRecord, *, event: PaymentEvent, actor: str, action: str
    ) -> None:
        if self._fail_saves:
            raise self._fail_saves.pop(0)
        self.records[record.gateway_txn_id] = record
        self.events.append(event)
        self.audit.append((actor, action, record.gateway_txn_id))

    async def save_refund(
        self, refund: ChargeRecord, *, event: PaymentEvent, actor: str
    ) -> ChargeRecord:
        original = self.records[refund.original_txn_id]
        if refund.state is PaymentState.APPROVED:
            refunded = original.refunded + refund.amount
            taken = (
                original.captured if original.kind is PaymentKind.AUTHORIZATION else original.amount
            )
            state = PaymentState.REFUNDED if taken <= refunded else original.state
            original = replace(original, refunded=refunded, state=state)
            self.records[original.gateway_txn_id] = original
        await self.save(refund, event=event, actor=actor, action="payment.refunded")
        return original


@final
class FakeChargeAttempts(ChargeAttempts):
    """Remembers whether a charge was started before."""

    def __init__(self, started_before: bool = False) -> None:
        self.started = started_before

    async def start(self) -> bool:
        before, self.started = self.started, True
        return before
