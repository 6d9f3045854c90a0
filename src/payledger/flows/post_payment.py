"""Turn one observed payment into the ledger writes it calls for, stored exactly once.

Steps, in business terms: wait for the transaction this one depends on; find out what the
ledger must show (the posting rules); find the customer; map the journal line and the order
update with the templates; record them as owed. Nothing is sent here: the journal flush sends
owed lines in batches, so a payment costs a fraction of one request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from payledger.domain.errors import ConfigError, MappingError, TransientError
from payledger.domain.model import Payment, PaymentKind, PaymentStatus
from payledger.domain.posting import (
    ORDER_OPERATION_PREFIX,
    LedgerLine,
    LedgerOperation,
    OrderUpdate,
    OriginalLine,
    Posting,
    PostingState,
    order_reference,
    payment_reference,
    plan_posting,
)
from payledger.domain.summary import payment_detail
from payledger.flows.ports import Ledger, PostingStore, SummaryStore
from payledger.mapping import CompiledTemplate, source_document

PENDING_JOURNAL = "PENDING"
"""Placeholder journal number in a mapped line; the flush puts the real one in."""


class WaitingForOriginal(TransientError):
    """The transaction this event depends on is not in the ledger yet; try again later."""


@dataclass(frozen=True)
class PostingRules:
    """The part of the configuration the posting flow decides with."""

    company: str
    timezone: str
    fallback_customer_account: str = ""
    customer_title: str = "D365 Customer"
    order_title: str = "D365 Order"
    summary: bool = False
    """Daily-summary mode: a payment gets no journal line of its own (its settled batch gets
    summary lines, ``flows.post_summary``) but its detail row at once; its order update
    still goes out."""


@dataclass(frozen=True)
class PostingTemplates:
    journal_line: CompiledTemplate
    order_status: CompiledTemplate | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    """Each template's version by template name (``d365_payment_journal_line@3``), recorded
    on the postings it maps."""

    def version_of(self, template: CompiledTemplate) -> str:
        return self.versions.get(template.name, "")


@dataclass(frozen=True)
class Posted:
    """What processing one event decided."""

    owed: tuple[Posting, ...]
    new: int


async def post_payment(
    inbox_id: int,
    payment: Payment,
    *,
    rules: PostingRules,
    templates: PostingTemplates,
    ledger: Ledger,
    store: PostingStore,
    details: SummaryStore | None = None,
) -> Posted:
    """Record what ``payment`` owes the ledger; raise to retry (waiting) or park (mapping).

    ``details`` keeps the payment's detail row in summary mode (required there)."""
    if rules.summary:
        if details is None:
            raise ConfigError("daily-summary posting needs the summary detail store")
        return await _summary_event(inbox_id, payment, rules, templates, ledger, store, details)
    await _wait_for_original(payment, store)
    tombstone = await _void_of_an_unseen_line(payment, store, rules)
    voided, original = await _voided_line(payment, store, ledger)
    plan = plan_posting(payment, voided_line=voided)
    owed: list[Posting] = [tombstone] if tombstone else []
    if plan.line is not None and plan.line.operation is LedgerOperation.REMOVAL:
        assert original is not None
        owed.append(_removal_posting(payment, plan.line, original, rules))
    elif plan.line is not None:
        account = await _customer_account(payment, plan.line, rules, ledger, store)
        enrich = await _enrichment(templates.journal_line, payment, account, ledger)
        owed.append(_line_posting(payment, plan.line, account, rules, templates, enrich))
    if plan.order_update is not None and templates.order_status is not None:
        order_number = await _order_number(payment, plan.order_update, rules, ledger)
        if order_number:
            owed.append(_order_posting(payment, plan.order_update, order_number, rules, templates))
    new = await store.record(inbox_id, owed, company=rules.company)
    return Posted(owed=tuple(owed), new=new)


async def _summary_event(
    inbox_id: int,
    payment: Payment,
    rules: PostingRules,
    templates: PostingTemplates,
    ledger: Ledger,
    store: PostingStore,
    details: SummaryStore,
) -> Posted:
    """Summary mode: no line, so nothing to wait for and no line to void; the detail row is
    kept (a void marks it voided, whichever event comes first) and a refund or a void
    changes its settled batch's summary (or keeps its sale out of any batch)."""
    detail = payment_detail(payment, business_day(payment, rules.timezone))
    if detail is not None:
        await details.keep_payment(detail, company=rules.company)
    update = plan_posting(payment).order_update
    owed: list[Posting] = []
    if update is not None and templates.order_status is not None:
        order_number = await _order_number(payment, update, rules, ledger)
        if order_number:
            owed.append(_order_posting(payment, update, order_number, rules, templates))
    new = await store.record(inbox_id, owed, company=rules.company)
    return Posted(owed=tuple(owed), new=new)


async def _wait_for_original(payment: Payment, store: PostingStore) -> None:
    """A refund never overtakes its sale: it waits until the sale's line is owed or written."""
    if (
        payment.kind not in (PaymentKind.REFUND, PaymentKind.ACH_REFUND)
        or not payment.original_txn_id
    ):
        return
    if not payment.is_approved:
        return
    original = await store.find(payment.original_txn_id, LedgerOperation.PAYMENT)
    if original is None:
        raise WaitingForOriginal(
            f"refund {payment.gateway_txn_id} waits for its sale {payment.original_txn_id}",
            system="payledger",
            operation="post payment",
        )


_KINDS_WITH_A_LINE = frozenset(
    {
        PaymentKind.SALE,
        PaymentKind.CAPTURE,
        PaymentKind.REFUND,
        PaymentKind.ACH_SALE,
        PaymentKind.ACH_REFUND,
    }
)


async def _void_of_an_unseen_line(
    payment: Payment, store: PostingStore, rules: PostingRules
) -> Posting | None:
    """A void of a transaction whose line payledger never owed leaves a cancelled line behind,
    so that its approval, should it arrive late (a webhook fetched before the void but
    committed after it), can never post it."""
    if payment.status is not PaymentStatus.VOIDED or payment.kind not in _KINDS_WITH_A_LINE:
        return None
    operation = LedgerOperation.REFUND if payment.kind.moves_money_out else LedgerOperation.PAYMENT
    if await store.find(payment.gateway_txn_id, operation) is not None:
        return None
    return Posting(
        reference=payment_reference(payment.gateway_txn_id, operation),
        gateway_txn_id=payment.gateway_txn_id,
        operation=operation.value,
        company=rules.company,
        business_day=business_day(payment, rules.timezone),
        amount=payment.amount,
        payload={},
        state=PostingState.CANCELLED,
    )


async def _voided_line(
    payment: Payment, store: PostingStore, ledger: Ledger
) -> tuple[OriginalLine | None, Posting | None]:
    if payment.status is not PaymentStatus.VOIDED:
        return None, None
    # A voided refund cancels the refund's own line, not a payment line.
    operation = LedgerOperation.REFUND if payment.kind.moves_money_out else LedgerOperation.PAYMENT
    original = await store.find(payment.gateway_txn_id, operation)
    if original is None or original.state in (PostingState.DEAD, PostingState.CANCELLED):
        return None, None
    if original.state is PostingState.PLANNED and await store.cancel(original.reference):
        return None, None  # never sent: cancelling it locally is the whole void
    if not original.state.written:
        raise WaitingForOriginal(
            f"void of {payment.gateway_txn_id} waits for its line to be written",
            system="payledger",
            operation="post payment",
        )
    posted = await _void_already_owed(payment, store)
    if posted is None:
        posted = await ledger.journal_is_posted(original.journal_batch_number)
        if posted:
            await store.close_journal(original.journal_batch_number)
    if posted and operation is LedgerOperation.REFUND:
        raise MappingError(
            f"void of refund {payment.gateway_txn_id}: its line is in posted journal "
            f"{original.journal_batch_number}; reversing a refund needs a credit line, which "
            "payledger does not post: reverse it by hand"
        )
    return OriginalLine(reference=original.reference, journal_posted=posted), original


async def _void_already_owed(payment: Payment, store: PostingStore) -> bool | None:
    """A void processed again keeps its first decision (True: reversal, False: removal), so a
    removal already sent is never followed by a reversal once the journal gets posted. A
    removal the ledger refused (dead) does not count: the journal was posted before it."""
    for operation in (LedgerOperation.REVERSAL, LedgerOperation.REMOVAL):
        owed = await store.find(payment.gateway_txn_id, operation)
        if owed is not None and owed.state is not PostingState.DEAD:
            return operation is LedgerOperation.REVERSAL
    return None


async def _customer_account(
    payment: Payment, line: LedgerLine, rules: PostingRules, ledger: Ledger, store: PostingStore
) -> str:
    """Extension field on the ERP customer, then the mapped custom field, then the fallback."""
    if line.operation is not LedgerOperation.PAYMENT:
        original = await store.find(payment.root_txn_id, LedgerOperation.PAYMENT)
        if original is not None and original.customer_account:
            return original.customer_account
    customer = payment.customer
    if customer and customer.gateway_customer_id:
        account = await ledger.customer_account_for(customer.gateway_customer_id)
        if account:
            return account
    from_custom_field = payment.custom_fields.get(rules.customer_title, "")
    account = from_custom_field or rules.fallback_customer_account
    if not account:
        raise MappingError(
            f"payment {payment.gateway_txn_id}: no customer account (no ERP customer with gateway "
            f"id {customer.gateway_customer_id if customer else '-'!r}, no {rules.customer_title!r}"
            " field, no fallback account configured)"
        )
    return account


async def _order_number(
    payment: Payment, update: OrderUpdate, rules: PostingRules, ledger: Ledger
) -> str | None:
    given = payment.custom_fields.get(rules.order_title, "")
    return given or await ledger.order_number_for(update.order_ref)


async def _enrichment(
    template: CompiledTemplate, payment: Payment, account: str, ledger: Ledger
) -> dict[str, Any]:
    """The ERP rows the template declared it needs, looked up before mapping."""
    found = {}
    for need in template.needs:
        row = await ledger.enrichment(need, payment, account)
        if row is not None:
            found[need] = row
    return found


def business_day(payment: Payment, timezone: str) -> str:
    return payment.occurred_at.astimezone(ZoneInfo(timezone)).date().isoformat()


def _line_posting(
    payment: Payment,
    line: LedgerLine,
    account: str,
    rules: PostingRules,
    templates: PostingTemplates,
    enrich: dict[str, Any],
) -> Posting:
    context = {
        "journal_batch_number": PENDING_JOURNAL,
        "line_number": 0,
        "operation": line.operation.value,
        "payment_reference": line.reference,
    }
    document = source_document(payment, context=context, enrich=enrich)
    document.setdefault("customer", {})["account"] = account
    payload = templates.journal_line.map(document)
    return Posting(
        reference=line.reference,
        gateway_txn_id=line.gateway_txn_id,
        operation=line.operation.value,
        company=rules.company,
        business_day=business_day(payment, rules.timezone),
        amount=line.amount,
        payload=payload,
        customer_account=account,
        target_reference=line.target_reference,
        template_version=templates.version_of(templates.journal_line),
    )


def _removal_posting(
    payment: Payment, line: LedgerLine, original: Posting, rules: PostingRules
) -> Posting:
    key = {
        "dataAreaId": rules.company,
        "JournalBatchNumber": original.journal_batch_number,
        "LineNumber": original.line_number,
    }
    return Posting(
        reference=line.reference,
        gateway_txn_id=line.gateway_txn_id,
        operation=line.operation.value,
        company=rules.company,
        business_day=original.business_day,
        amount=line.amount,
        payload=key,
        customer_account=original.customer_account,
        target_reference=original.reference,
    )


def _order_posting(
    payment: Payment,
    update: OrderUpdate,
    order_number: str,
    rules: PostingRules,
    templates: PostingTemplates,
) -> Posting:
    assert templates.order_status is not None
    context = {"order_status": update.status.value}
    document = source_document(payment, context=context)
    document["order"] = {**document.get("order", {}), "number": order_number}
    return Posting(
        reference=order_reference(update),
        gateway_txn_id=update.gateway_txn_id,
        operation=f"{ORDER_OPERATION_PREFIX}{update.status.value}",
        company=rules.company,
        business_day=business_day(payment, rules.timezone),
        amount=update.amount,
        payload=templates.order_status.map(document),
        template_version=templates.version_of(templates.order_status),
    )
