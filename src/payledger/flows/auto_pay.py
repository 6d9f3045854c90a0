"""Auto-pay: a posted sales invoice of a customer with a card on file is charged at once.

Triggered by D365's ``SalesInvoicePostedBusinessEvent``; charges through the same step as
``POST /api/v1/payments`` (:func:`charge_receivable`), so the open amount, the gateway call and
the ledger posting are the same. Once per invoice: a re-sent event is a duplicate before it
gets here, what is already paid is not open, and an attempt cut off after the gateway may have
acted is finished by finding that charge instead of charging again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from payledger.domain.charges import (
    ChargeReferences,
    PaymentEvent,
    PaymentState,
    ReceivableKind,
    StoredCard,
)
from payledger.domain.dunning import AttemptOutcome, CaseSource, MissedCharge
from payledger.domain.erp_keys import InvalidErpValue, check_erp_id
from payledger.domain.errors import RejectedError, TransientError
from payledger.domain.money import Money
from payledger.flows.charge_payment import (
    AmountRefused,
    Busy,
    Charge,
    ChargeContext,
    ChargeNotRecorded,
    NotAllowed,
    NotFound,
    charge_receivable,
    record_of,
)
from payledger.flows.ports import ChargeAttempts, MissedCharges
from payledger.flows.screen_charge import Held, Rejected

AUTO_PAY_CLIENT = "d365-auto-pay"
"""The client name auto-pay charges are recorded (and audited) under."""


class AutoPayOutcome(StrEnum):
    CHARGED = "charged"
    DECLINED = "declined"
    SKIPPED = "skipped"
    """Nothing to do: other company, no card on file, auto-pay off, or nothing open."""
    FAILED = "failed"
    """Not charged: the gateway refused the charge (e.g. the customer profile is gone), or the
    event's invoice or customer is no valid D365 id; a person must look."""
    HELD = "held"
    """Not charged yet: the risk screen holds the charge for review; the approval charges it
    (once), through the same step. Not a decline."""
    REJECTED = "rejected"
    """Never charged: an operator rejected the charge in the risk review."""


@dataclass(frozen=True)
class InvoicePosted:
    """What a ``SalesInvoicePostedBusinessEvent`` says."""

    invoice_number: str
    customer_account: str
    legal_entity: str
    received_at: datetime


@dataclass(frozen=True)
class AutoPayResult:
    outcome: AutoPayOutcome
    reason: str
    gateway_txn_id: str = ""
    amount: Money | None = None
    """What was charged or declined (None when nothing reached the gateway)."""


async def pay_posted_invoice(
    event: InvoicePosted,
    *,
    company: str,
    ctx: ChargeContext,
    attempts: ChargeAttempts,
    dunning: MissedCharges | None = None,
) -> AutoPayResult:
    """Charge the invoice's open amount to the customer's card on file, if they chose that;
    a decline is reported to ``dunning`` (when given), which retries it."""
    if event.legal_entity.casefold() != company.casefold():
        return _skipped(f"the invoice is in company {event.legal_entity}, not {company}")
    try:
        _check_ids(event)
    except InvalidErpValue as exc:  # stored before ids were checked at the door
        return AutoPayResult(AutoPayOutcome.FAILED, str(exc))
    card = await ctx.receivables.card_on_file(event.customer_account)
    if card is None:
        return _skipped(f"customer {event.customer_account} has no card on file")
    if not card.auto_pay:
        return _skipped(f"customer {event.customer_account} has auto-pay off")
    charge = InvoiceCharge(
        invoice_number=event.invoice_number,
        customer_account=event.customer_account,
        card=StoredCard(card.gateway_customer_id),
        client=AUTO_PAY_CLIENT,
        since=event.received_at,
    )
    result = await charge_invoice_once(charge, ctx=ctx, attempts=attempts)
    if result.outcome is AutoPayOutcome.DECLINED and dunning is not None:
        await dunning.charge_missed(_missed(charge, result, ctx.now))
    return result


def _missed(charge: InvoiceCharge, result: AutoPayResult, now: datetime) -> MissedCharge:
    assert isinstance(charge.card, StoredCard) and result.amount is not None
    return MissedCharge(
        source=CaseSource.AUTO_PAY,
        source_key=f"auto-pay:{charge.invoice_number}:{result.gateway_txn_id}",
        invoice_number=charge.invoice_number,
        customer_account=charge.customer_account,
        vault_customer_id=charge.card.customer_id,
        amount=result.amount,
        at=now,
        outcome=AttemptOutcome.DECLINED,
        reason=result.reason,
        gateway_txn_id=result.gateway_txn_id,
    )


@dataclass(frozen=True)
class InvoiceCharge:
    """Charge the open amount of ``invoice_number`` to a card on file, as ``client``."""

    invoice_number: str
    customer_account: str
    card: StoredCard
    client: str
    since: datetime
    """No charge of this invoice was made before this (where a cut-off one is looked for)."""
    review_key: str = ""
    """The key the risk screen holds this charge under ("" : ``<client>:<invoice>``)."""

    @property
    def held_as(self) -> str:
        return self.review_key or f"{self.client}:{self.invoice_number}"


async def charge_invoice_once(
    charge: InvoiceCharge, *, ctx: ChargeContext, attempts: ChargeAttempts
) -> AutoPayResult:
    """Charge an invoice through :func:`charge_receivable`, once across retries: an attempt
    cut off after the gateway may have acted is finished by finding that charge instead of
    charging again (auto-pay and the subscription billing run both charge this way)."""
    if await attempts.start():
        found = await _finish_cut_off_attempt(charge, ctx)
        if found is not None:
            return found
    try:
        charged = await charge_receivable(
            Charge(
                kind=ReceivableKind.INVOICE,
                number=charge.invoice_number,
                card=charge.card,
                client=charge.client,
                review_key=charge.held_as,
            ),
            ctx,
        )
    except Held as exc:  # waiting for an operator: not charged, not declined
        return AutoPayResult(AutoPayOutcome.HELD, str(exc))
    except Rejected as exc:
        return AutoPayResult(AutoPayOutcome.REJECTED, str(exc))
    except Busy as exc:  # a charge through the API is running: look again once it is done
        raise TransientError(str(exc), system="payledger", operation=charge.client) from exc
    except (NotAllowed, AmountRefused, NotFound) as exc:
        return _skipped(str(exc))
    except ChargeNotRecorded as exc:  # charged: the retry finds the charge instead of redoing it
        raise TransientError(str(exc), system="payledger", operation=charge.client) from exc
    except RejectedError as exc:
        return AutoPayResult(AutoPayOutcome.FAILED, str(exc))
    record = charged.record
    if record.state is PaymentState.DECLINED:
        return AutoPayResult(
            AutoPayOutcome.DECLINED, record.message, record.gateway_txn_id, record.amount
        )
    return AutoPayResult(
        AutoPayOutcome.CHARGED,
        f"charged {record.amount} to the card on file of {charge.customer_account}",
        record.gateway_txn_id,
        record.amount,
    )


async def _finish_cut_off_attempt(
    charge: InvoiceCharge, ctx: ChargeContext
) -> AutoPayResult | None:
    """An earlier attempt may have charged and died before finishing: adopt that charge."""
    refs = ChargeReferences(charge.customer_account, invoice_number=charge.invoice_number)
    payment = await ctx.gateway.find_charge(refs, charge.since)
    if payment is None:
        return None
    if await ctx.records.get(payment.gateway_txn_id) is None:
        record = record_of(payment, charge.client, refs, ctx.now)
        await ctx.records.save(
            record,
            event=PaymentEvent(ctx.gateway.source_name, ctx.gateway.event_id(payment), payment),
            actor=f"api:{charge.client}",
            action="payment.recovered",
        )
    outcome = AutoPayOutcome.CHARGED if payment.is_approved else AutoPayOutcome.DECLINED
    return AutoPayResult(
        outcome,
        f"an interrupted attempt had already charged the card: {payment.message}",
        payment.gateway_txn_id,
        payment.amount,
    )


def _check_ids(event: InvoicePosted) -> None:
    if event.invoice_number:
        check_erp_id("InvoiceId", event.invoice_number)
    if event.customer_account:
        check_erp_id("InvoiceAccount", event.customer_account)


def _skipped(reason: str) -> AutoPayResult:
    return AutoPayResult(AutoPayOutcome.SKIPPED, reason)
