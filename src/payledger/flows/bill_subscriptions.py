"""The billing run: every due subscription period invoiced in the ERP and charged, once.

Each entry moves ``planned`` (claimed) -> ``invoiced`` (the free-text invoice is posted) ->
``charged`` | ``declined`` | ``failed`` | ``rejected`` (the risk review refused the charge),
and every step is recorded before the next begins:

- the claim is the insert of the entry's row (:class:`SubscriptionStore`), so two runs never
  bill a period twice;
- the invoice carries the entry's key, so a draft or posted invoice an earlier attempt made
  is found, never issued again;
- the charge goes through :func:`~payledger.flows.auto_pay.charge_invoice_once`, the step
  auto-pay and the payments API use, which finds a charge an interrupted attempt made before
  charging; the payment then settles the invoice through the ledger loop. A charge the risk
  screen holds leaves the entry ``invoiced`` (outcome ``held``) until an operator decides.

When the ERP or the gateway is down, the entry stays where it is and the run stops; the next
run (or a run after a crash, once the lease lapses) continues each entry from its step.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

from payledger.domain.charges import PaymentState, ReceivableKind, StoredCard
from payledger.domain.clock import Clock
from payledger.domain.errors import AmbiguousOutcome, ConnectorError, PayLedgerError
from payledger.domain.subscriptions_billing import (
    BillingEntry,
    CatchUp,
    EntryStatus,
    claim_due,
    status_after,
)
from payledger.flows.auto_pay import AutoPayOutcome, InvoiceCharge, charge_invoice_once
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.ports import (
    ClaimedEntry,
    Dunning,
    FreeTextInvoice,
    FreeTextInvoicing,
    InvoiceLine,
    SubscriptionMirror,
    SubscriptionStore,
)

SUBSCRIPTIONS_CLIENT = "subscriptions"
"""The client name subscription charges are recorded (and audited) under."""

_OUTCOMES = {
    AutoPayOutcome.CHARGED: EntryStatus.CHARGED,
    AutoPayOutcome.DECLINED: EntryStatus.DECLINED,
    AutoPayOutcome.FAILED: EntryStatus.FAILED,
    AutoPayOutcome.REJECTED: EntryStatus.REJECTED,
}
HELD = "held"
"""A run's outcome for an entry whose charge waits in the risk review (left ``invoiced``)."""


@dataclass(frozen=True)
class BillSubscriptions:
    """One billing run."""

    catch_up: CatchUp = "all"
    max_per_run: int = 500
    revenue_account: str = "401100"
    """Main account of lines whose plan names no item or account."""
    owner: str = "billing"
    """Who holds the claimed entries (a process name)."""
    lease: timedelta = timedelta(minutes=10)
    """How long a claim holds an entry before another run may resume it (a crashed run)."""
    concurrency: int = 4


@dataclass(frozen=True)
class BillingPorts:
    store: SubscriptionStore
    invoicing: FreeTextInvoicing
    mirror: SubscriptionMirror
    charging: ChargeContext
    clock: Clock
    dunning: Dunning | None = None
    """Told of each declined or failed charge (None: nothing follows yet)."""


@dataclass
class BillingReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    """Entries by how they ended this run (``waiting``: left where they were)."""
    errors: list[str] = field(default_factory=list)
    stopped: str = ""
    """Why the run stopped early (an outage), if it did."""

    def count(self, outcome: str) -> int:
        return self.outcomes.get(outcome, 0)


class _Attempts:
    """An entry's charge attempts, as ``charge_invoice_once`` asks for them."""

    def __init__(self, store: SubscriptionStore, entry_id: int) -> None:
        self.store, self.entry_id = store, entry_id

    async def start(self) -> bool:
        return await self.store.start_charge(self.entry_id)


async def bill_subscriptions(cmd: BillSubscriptions, ports: BillingPorts) -> BillingReport:
    """Claim what is due now (up to ``max_per_run``) and bill each entry."""
    now = ports.clock.now()
    claimed = await ports.store.claim_due(
        now,
        limit=cmd.max_per_run,
        owner=cmd.owner,
        lease=cmd.lease,
        plan=partial(claim_due, now=now, catch_up=cmd.catch_up, most=cmd.max_per_run),
    )
    report = BillingReport()
    gate = asyncio.Semaphore(cmd.concurrency)
    renewing = asyncio.create_task(_renew_leases(cmd, ports))

    async def one(item: ClaimedEntry) -> None:
        async with gate:
            if report.stopped:
                await ports.store.release(item.entry.id, f"run stopped: {report.stopped}")
                outcome = "waiting"
            else:
                outcome = await bill_entry(item, cmd, ports, report)
            report.outcomes[outcome] = report.count(outcome) + 1

    try:
        await asyncio.gather(*(one(item) for item in claimed))
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    return report


async def _renew_leases(cmd: BillSubscriptions, ports: BillingPorts) -> None:
    """Hold the run's entries while it works: entries waiting for a slot, or slowed by a
    throttling ERP, must not lapse to another run that would bill them at the same time."""
    while True:
        await asyncio.sleep(cmd.lease.total_seconds() / 3)
        with contextlib.suppress(PayLedgerError):  # the next round tries again
            await ports.store.renew(cmd.owner, ports.clock.now() + cmd.lease)


async def bill_entry(
    item: ClaimedEntry, cmd: BillSubscriptions, ports: BillingPorts, report: BillingReport
) -> str:
    """Take one claimed entry as far as it goes; returns its outcome (or ``waiting``)."""
    entry, store = item.entry, ports.store
    try:
        if not entry.total.is_positive:
            await store.advance(entry.id, EntryStatus.SKIPPED, error="nothing owed: credit")
            return EntryStatus.SKIPPED.value
        if entry.status is EntryStatus.PLANNED:
            number = await _issue(item, cmd, ports.invoicing)
            await store.advance(entry.id, EntryStatus.INVOICED, invoice_number=number)
            entry = replace(entry, status=EntryStatus.INVOICED, invoice_number=number)
        return await _charge(ClaimedEntry(entry, item.subscription), ports)
    except PayLedgerError as exc:
        error = f"{type(exc).__name__}: {exc}"
        if exc.retryable:  # an outage: the rest of the run would meet it too
            report.stopped = report.stopped or error
        else:  # refused (e.g. the ERP refused the invoice): a person must look
            report.errors.append(f"{entry.invoice_key}: {error}")
        await store.release(entry.id, error)
        return "waiting"


async def _issue(item: ClaimedEntry, cmd: BillSubscriptions, invoicing: FreeTextInvoicing) -> str:
    """The posted invoice's number: created and posted now, or found where an earlier
    attempt left it."""
    entry, plan = item.entry, item.subscription.plan
    account = "" if plan.item else (plan.ledger_account or cmd.revenue_account)
    invoice = FreeTextInvoice(
        key=entry.invoice_key,
        customer_account=item.subscription.customer_account,
        invoice_date=entry.period.starts_on,
        currency=item.subscription.currency,
        lines=tuple(
            InvoiceLine(line.description, line.amount, ledger_account=account, item=plan.item)
            for line in entry.lines
        ),
    )
    try:
        issued = await invoicing.create(invoice)  # an invoice with the key comes back as is
        if not issued.posted:
            issued = await invoicing.post(entry.invoice_key)
    except AmbiguousOutcome:
        found = await invoicing.find(entry.invoice_key)
        if found is None or not found.posted:
            raise
        issued = found
    return issued.number


async def _charge(item: ClaimedEntry, ports: BillingPorts) -> str:
    entry, subscription = item.entry, item.subscription
    charge = InvoiceCharge(
        invoice_number=entry.invoice_number,
        customer_account=subscription.customer_account,
        card=StoredCard(subscription.vault_customer_id),
        client=SUBSCRIPTIONS_CLIENT,
        since=entry.claimed_at,
    )
    result = await charge_invoice_once(
        charge, ctx=ports.charging, attempts=_Attempts(ports.store, entry.id)
    )
    if result.outcome is AutoPayOutcome.HELD:  # not charged yet: the approval runs it again
        await ports.store.release(entry.id, result.reason)
        return HELD
    if result.outcome is AutoPayOutcome.SKIPPED:  # nothing open on the invoice
        txn = await _paid_by(entry, ports)
        status = EntryStatus.CHARGED if txn else EntryStatus.FAILED
    else:
        status, txn = _OUTCOMES[result.outcome], result.gateway_txn_id
    error = "" if status is EntryStatus.CHARGED else result.reason
    await ports.store.advance(entry.id, status, gateway_txn_id=txn, error=error)
    await _settle(item, status, result.reason, ports)
    return status.value


async def _paid_by(entry: BillingEntry, ports: BillingPorts) -> str:
    """The approved charge payledger recorded for the entry's invoice ("" if none): a run cut
    off after the charge was recorded finds the invoice paid; else a person must look."""
    records = await ports.charging.records.for_receivable(
        ReceivableKind.INVOICE, entry.invoice_number
    )
    approved = [r for r in records if r.state is PaymentState.APPROVED]
    return approved[-1].gateway_txn_id if approved else ""


async def _settle(
    item: ClaimedEntry, outcome: EntryStatus, reason: str, ports: BillingPorts
) -> None:
    """The subscription's status after the charge, mirrored to the ERP; dunning is told of a
    missed charge."""
    new = status_after(item.subscription.status, outcome)
    if new is not None:
        settled = await ports.store.settle_status(item.subscription.id, new, reason=reason)
        if settled is not None:
            await _mirror(ports.mirror, settled.customer_account, settled.status.value)
        elif item.subscription.status is new:
            # unchanged, written again: the ERP shows it from the first charge on, and a
            # write an outage lost is made good by the next charge
            await _mirror(ports.mirror, item.subscription.customer_account, new.value)
    if outcome in (EntryStatus.DECLINED, EntryStatus.FAILED) and ports.dunning is not None:
        await ports.dunning.charge_missed(item, outcome, reason)


async def _mirror(mirror: SubscriptionMirror, account: str, status: str) -> None:
    # a display field only: the next status change writes it again
    with contextlib.suppress(ConnectorError):
        await mirror.set_status(account, status)
