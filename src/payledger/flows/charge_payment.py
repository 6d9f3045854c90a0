"""Charge an invoice or sales order, and capture, void or refund what was charged.

The gateway answers synchronously; the ledger hears of it through the inbox, under the same
key the gateway's poller would give the payment, so a payment seen both ways posts once.
Every step checks the business rule first (what is open, what may be captured, voided or
refunded), so nothing is sent to the gateway that it should not do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from payledger.domain.charges import (
    CardSource,
    ChargeRecord,
    ChargeReferences,
    PaymentEvent,
    PaymentState,
    Receivable,
    ReceivableKind,
    StoredCard,
    open_amount,
    refundable,
)
from payledger.domain.clock import Clock
from payledger.domain.erp_keys import check_erp_id
from payledger.domain.errors import DomainError, PayLedgerError
from payledger.domain.model import Payment, PaymentKind
from payledger.domain.money import Money
from payledger.domain.risk import RiskSubject, SubjectKind
from payledger.flows.charge_request import ChargeRequests
from payledger.flows.ports import CardGateway, ChargeRecords, Receivables
from payledger.flows.ports.risk import HeldKind
from payledger.flows.screen_charge import ItemScreen, Screened, item_made, pending_id, screen_item
from payledger.flows.screen_refund import screen_refund
from payledger.mapping import CompiledTemplate


class NotFound(DomainError):
    """The invoice, sales order or payment does not exist."""


class NotAllowed(DomainError):
    """The payment's state does not allow this (e.g. refunding a voided sale)."""


class AmountRefused(DomainError):
    """The amount does not fit what is open, capturable or refundable."""


class Busy(NotAllowed):
    """Another charge of the same invoice or order is running; try again shortly."""


class ChargeNotRecorded(PayLedgerError):
    """The gateway acted but payledger could not record it (the database failed): the answer
    stands, and the gateway's poller brings the payment to the ledger later."""

    def __init__(
        self, record: ChargeRecord, cause: Exception, *, original: ChargeRecord | None = None
    ) -> None:
        super().__init__(f"payment {record.gateway_txn_id} was made but not recorded: {cause}")
        self.record = record
        self.original = original
        """For a refund: the payment it refunds, as it was before."""


@dataclass(frozen=True)
class Charge:
    """Charge ``number`` (an invoice or sales order) with ``card``."""

    kind: ReceivableKind
    number: str
    card: CardSource
    client: str
    amount: Decimal | None = None
    """None: the open amount."""
    currency: str | None = None
    """When given, must be the receivable's currency."""
    capture: bool = True
    """False: authorize only (capture later)."""
    review_key: str = ""
    """When given (payledger's own charges), the charge is screened first under this key
    and may be held for review (:mod:`payledger.flows.screen_charge`)."""


@dataclass(frozen=True)
class Charged:
    record: ChargeRecord
    receivable: Receivable
    open_before: Money


@dataclass(frozen=True)
class ChargeContext:
    """The ports and clock every step works with."""

    gateway: CardGateway
    receivables: Receivables
    records: ChargeRecords
    now: datetime
    requests: ChargeRequests
    """How a charge's gateway request is built (the charge request template)."""
    items: ItemScreen | None = None
    """Screens payledger's own charges and refunds before they are made (None: off)."""


def charge_context(
    gateway: CardGateway,
    receivables: Receivables,
    records: ChargeRecords,
    clock: Clock,
    request_template: CompiledTemplate,
) -> ChargeContext:
    """The context of a charge made now: its ports, the time on ``clock``, and requests built
    with ``request_template`` from the receivables' ERP rows."""
    return ChargeContext(
        gateway=gateway,
        receivables=receivables,
        records=records,
        now=clock.now(),
        requests=ChargeRequests(request_template, receivables),
    )


async def _receivable(kind: ReceivableKind, number: str, receivables: Receivables) -> Receivable:
    found = (
        await receivables.invoice(number)
        if kind is ReceivableKind.INVOICE
        else await receivables.sales_order(number)
    )
    if found is None:
        what = "invoice" if kind is ReceivableKind.INVOICE else "sales order"
        raise NotFound(f"{what} {number} does not exist in the ERP company")
    return found


async def _made_here(receivable: Receivable, records: ChargeRecords) -> list[ChargeRecord]:
    made = await records.for_receivable(receivable.kind, receivable.number)
    if receivable.kind is ReceivableKind.INVOICE and receivable.sales_order_number:
        made += await records.for_receivable(
            ReceivableKind.SALES_ORDER, receivable.sales_order_number
        )
    return made


def _amount_to_charge(cmd: Charge, receivable: Receivable, open_: Money, currency: str) -> Money:
    what = f"{receivable.kind.value.replace('_', ' ')} {receivable.number}"
    if receivable.total.currency != currency:
        raise AmountRefused(
            f"{what} is in {receivable.total.currency}; the card account charges {currency}"
        )
    if cmd.currency and cmd.currency != currency:
        raise AmountRefused(f"{what} is charged in {currency}, not {cmd.currency}")
    if not open_.is_positive:
        raise NotAllowed(f"{what} has nothing open to charge (total {receivable.total})")
    amount = Money(cmd.amount, currency) if cmd.amount is not None else open_
    if not amount.is_positive:
        raise AmountRefused("the amount must be more than 0")
    if open_ < amount:
        raise AmountRefused(f"{amount} is more than the {open_} open on {what}")
    return amount


def record_of(payment: Payment, client: str, refs: ChargeReferences, now: datetime) -> ChargeRecord:
    """The record of a new gateway transaction (sale, authorization or refund)."""
    state = {
        PaymentKind.SALE: PaymentState.APPROVED,
        PaymentKind.AUTHORIZATION: PaymentState.AUTHORIZED,
        PaymentKind.REFUND: PaymentState.APPROVED,
    }[payment.kind]
    zero = Money.zero(payment.amount.currency)
    return ChargeRecord(
        gateway_txn_id=payment.gateway_txn_id,
        client=client,
        kind=payment.kind,
        state=state if payment.is_approved else PaymentState.DECLINED,
        amount=payment.amount,
        captured=zero,
        refunded=zero,
        created_at=now,
        original_txn_id=payment.original_txn_id,
        invoice_number=refs.invoice_number,
        sales_order_number=refs.sales_order_number,
        customer_account=refs.customer_account,
        response_code=payment.response_code,
        approval_code=payment.auth_code,
        masked_card=payment.token.masked_card if payment.token else "",
        message=payment.message,
    )


def _event(gateway: CardGateway, payment: Payment) -> PaymentEvent:
    return PaymentEvent(gateway.source_name, gateway.event_id(payment), payment)


async def charge_receivable(cmd: Charge, ctx: ChargeContext) -> Charged:
    """Charge the open amount (or ``cmd.amount``) of an invoice or sales order.

    One charge of a receivable at a time: what is open is decided and charged under a hold,
    so two requests (or a request and auto-pay) never both take the same open amount. A
    number that is no D365 id raises :class:`~payledger.domain.erp_keys.InvalidErpValue`.
    """
    check_erp_id(cmd.kind.value, cmd.number)
    if not await ctx.records.hold(cmd.kind, cmd.number):
        what = cmd.kind.value.replace("_", " ")
        raise Busy(f"another charge of {what} {cmd.number} is in progress; retry shortly")
    try:
        return await _charge_held(cmd, ctx)
    finally:
        await ctx.records.release(cmd.kind, cmd.number)


async def _charge_held(cmd: Charge, ctx: ChargeContext) -> Charged:
    receivable = await _receivable(cmd.kind, cmd.number, ctx.receivables)
    open_ = open_amount(receivable, await _made_here(receivable, ctx.records))
    amount = _amount_to_charge(cmd, receivable, open_, ctx.gateway.currency)
    refs = ChargeReferences(
        customer_account=receivable.customer_account,
        invoice_number=receivable.number if cmd.kind is ReceivableKind.INVOICE else "",
        sales_order_number=receivable.sales_order_number,
    )
    request = await ctx.requests.for_receivable(receivable, amount, cmd.card)
    screened = await _screen(cmd, refs, amount, ctx)
    payment = await ctx.gateway.charge(
        amount, cmd.card, capture=cmd.capture, refs=refs, request=request
    )
    if screened is not None and ctx.items is not None:
        await item_made(screened, payment, ctx.items)
    record = record_of(payment, cmd.client, refs, ctx.now)
    action = "payment.charged" if payment.is_approved else "payment.declined"
    await _save(ctx, record, payment, cmd.client, action)
    return Charged(record, receivable, open_)


async def _screen(
    cmd: Charge, refs: ChargeReferences, amount: Money, ctx: ChargeContext
) -> Screened | None:
    """Screen one of payledger's own charges; raises ``Held`` or ``Rejected`` to stop it."""
    if ctx.items is None or not cmd.review_key:
        return None
    card = cmd.card.customer_id if isinstance(cmd.card, StoredCard) else ""
    subject = RiskSubject(
        transaction_id=pending_id(HeldKind.CHARGE, cmd.review_key),
        kind=SubjectKind.SALE if cmd.capture else SubjectKind.AUTHORIZATION,
        amount=amount,
        occurred_at=ctx.now,
        customer_id=card,
        card_token=card,
        invoice_ref=refs.invoice_number or refs.sales_order_number,
    )
    return await screen_item(HeldKind.CHARGE, cmd.review_key, subject, ctx.items)


async def _save(
    ctx: ChargeContext, record: ChargeRecord, payment: Payment, client: str, action: str
) -> None:
    try:
        await ctx.records.save(
            record, event=_event(ctx.gateway, payment), actor=f"api:{client}", action=action
        )
    except PayLedgerError as exc:
        raise ChargeNotRecorded(record, exc) from exc


async def _existing(txn_id: str, records: ChargeRecords) -> ChargeRecord:
    record = await records.get(txn_id)
    if record is None:
        raise NotFound(f"no payment {txn_id} was made through payledger")
    return record


def _money(amount: Decimal | None, record: ChargeRecord) -> Money | None:
    return Money(amount, record.amount.currency) if amount is not None else None


async def capture_payment(
    txn_id: str, amount: Decimal | None, client: str, ctx: ChargeContext
) -> ChargeRecord:
    """Capture an authorization, fully or (with ``amount``) partly."""
    record = await _existing(txn_id, ctx.records)
    if record.kind is not PaymentKind.AUTHORIZATION or record.state is not PaymentState.AUTHORIZED:
        raise NotAllowed(
            f"payment {txn_id} is a {record.state.value} {record.kind.value}: only an "
            "authorization that is not captured, voided or declined can be captured"
        )
    to_capture = _money(amount, record) or record.amount
    if not to_capture.is_positive:
        raise AmountRefused("the amount must be more than 0")
    if record.amount < to_capture:
        raise AmountRefused(f"{to_capture} is more than the {record.amount} authorized")
    payment = await ctx.gateway.capture(record, to_capture)
    captured = replace(record, state=PaymentState.CAPTURED, captured=to_capture)
    await _save(ctx, captured, payment, client, "payment.captured")
    return captured


async def void_payment(txn_id: str, client: str, ctx: ChargeContext) -> ChargeRecord:
    """Void a sale or authorization that has not settled yet."""
    record = await _existing(txn_id, ctx.records)
    voidable = (PaymentState.APPROVED, PaymentState.AUTHORIZED, PaymentState.CAPTURED)
    if record.kind is PaymentKind.REFUND or record.state not in voidable:
        raise NotAllowed(
            f"payment {txn_id} is a {record.state.value} {record.kind.value}: only an approved "
            "sale or an authorization can be voided"
        )
    if record.refunded.is_positive:
        raise NotAllowed(f"payment {txn_id} was partly refunded; it can no longer be voided")
    payment = await ctx.gateway.void(record)
    voided = replace(record, state=PaymentState.VOIDED)
    await _save(ctx, voided, payment, client, "payment.voided")
    return voided


async def refund_payment(
    txn_id: str, amount: Decimal | None, client: str, ctx: ChargeContext, *, review_key: str = ""
) -> tuple[ChargeRecord, ChargeRecord]:
    """Refund a settled sale or capture, fully or partly; returns (refund, original now).

    With ``review_key`` and screening on (``ctx.items``), the refund is screened first under
    that key and may be held for review (raises ``Held``, ``Rejected`` or ``RefundWaiting``:
    nothing was sent to the gateway)."""
    record = await _existing(txn_id, ctx.records)
    left = refundable(record)
    if not left.is_positive:
        raise NotAllowed(
            f"payment {txn_id} is a {record.state.value} {record.kind.value} with nothing left "
            "to refund (only approved sales and captures can be refunded)"
        )
    to_refund = _money(amount, record) or left
    if not to_refund.is_positive:
        raise AmountRefused("the amount must be more than 0")
    if left < to_refund:
        raise AmountRefused(f"{to_refund} is more than the {left} left to refund")
    screened = None
    if ctx.items is not None and review_key:
        screened = await screen_refund(record, to_refund, review_key, ctx.items, ctx.now)
    payment = await ctx.gateway.refund(record, to_refund)
    if screened is not None and ctx.items is not None:
        await item_made(screened, payment, ctx.items)
    return await record_refund(record, payment, client, ctx)


async def record_refund(
    original: ChargeRecord, payment: Payment, client: str, ctx: ChargeContext
) -> tuple[ChargeRecord, ChargeRecord]:
    """Record the gateway's refund ``payment`` of ``original``; (refund, original now)."""
    refund = record_of(payment, client, _refs(original), ctx.now)
    try:
        now = await ctx.records.save_refund(
            refund, event=_event(ctx.gateway, payment), actor=f"api:{client}"
        )
    except PayLedgerError as exc:
        raise ChargeNotRecorded(refund, exc, original=original) from exc
    return refund, now


def _refs(record: ChargeRecord) -> ChargeReferences:
    return ChargeReferences(
        record.customer_account, record.invoice_number, record.sales_order_number
    )
