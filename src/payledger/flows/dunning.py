"""Dunning: a missed charge becomes a case; soft declines are retried on schedule, once each.

- **Opening** is idempotent per missed charge (its ``source_key``), and an invoice has one
  active case at a time: a second missed charge of it joins the case already running.
- **A retry is claimed before it is made**: the store inserts the attempt's row under a unique
  (case, attempt number) key, so two workers never make the same attempt. The charge goes
  through :func:`~payledger.flows.auto_pay.charge_invoice_once` (client ``dunning``, looking
  for a cut-off charge made since the attempt was claimed), so an attempt resumed after a
  crash finds the charge at the gateway instead of charging again. A retry the risk screen
  holds is released unmade (no attempt counted) until an operator decides; a rejected one
  ends as a failed attempt (like a hard decline: the case waits for a new card).
- Each step's customer notice and ERP collections stage (:class:`DunningParts`) follow once
  the case is stored; a failing one is an operator alert, never a lost case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from payledger.domain.charges import PaymentState, ReceivableKind, StoredCard
from payledger.domain.clock import Clock
from payledger.domain.dunning import (
    OPENED,
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    Decline,
    DeclineClass,
    DeclineTable,
    DunningCase,
    Followup,
    MissedCharge,
    after_attempt,
    classify,
    close,
    open_case,
    retry_now,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.errors import PayLedgerError
from payledger.domain.subscriptions import SubscriptionStatus
from payledger.domain.subscriptions_billing import EntryStatus
from payledger.flows.auto_pay import (
    AutoPayOutcome,
    AutoPayResult,
    InvoiceCharge,
    charge_invoice_once,
)
from payledger.flows.charge_payment import ChargeContext
from payledger.flows.ports import (
    ClaimedAttempt,
    ClaimedEntry,
    CollectionsErp,
    DunningNotices,
    DunningStore,
    OperatorAlerts,
    StaleCase,
    SubscriptionMirror,
    SubscriptionStore,
    UnknownCase,
)

log = structlog.get_logger(__name__)

DUNNING_CLIENT = "dunning"
"""The client name retries are charged (and audited) under."""
DUNNING_ACTOR = "payledger:dunning"
BURST_ALERT = "dunning-decline-burst"
FOLLOWUP_ALERT = "dunning-followup-failed"


@dataclass(frozen=True)
class DunningPolicy:
    table: DeclineTable
    schedule: RetrySchedule
    burst_per_hour: int = 0
    """Alert when more declines than this arrive within an hour (0: never)."""


@dataclass(frozen=True)
class DunningParts:
    """What the outside world is told as a case moves: both are required."""

    notices: DunningNotices
    erp: CollectionsErp


@dataclass(frozen=True)
class DunningPorts:
    store: DunningStore
    parts: DunningParts
    alerts: OperatorAlerts
    clock: Clock
    policy: DunningPolicy
    charging: Callable[[], Awaitable[ChargeContext]]
    """The charge ports of an attempt made now."""
    subscriptions: SubscriptionStore | None = None
    """Sets a recovered subscription active again."""
    mirror: SubscriptionMirror | None = None


@dataclass(frozen=True)
class RetryDue:
    """One retry run."""

    max_per_run: int = 200
    owner: str = "dunning"
    lease: timedelta = timedelta(minutes=10)


@dataclass
class RetryReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    """Attempts by outcome (``waiting``: given back unfinished)."""
    stopped: str = ""
    """Why the run stopped early (an outage), if it did."""


async def open_dunning_case(missed: MissedCharge, ports: DunningPorts) -> DunningCase:
    """The case of a missed charge: opened (payment-failed notice, ERP past due), or the one
    already open for it or for its invoice."""
    running = await ports.store.active_for_invoice(missed.invoice_number)
    if running is not None:
        return running
    cls = _class_of(missed.outcome, missed.reason, ports.policy)
    stored, created = await ports.store.open(
        open_case(missed, cls, ports.policy.schedule), actor=DUNNING_ACTOR
    )
    if created:
        log.info("dunning.opened", case=stored.id, invoice=stored.invoice_number, cls=cls.value)
        await _follow(stored, OPENED, ports)
        await _watch_declines(ports)
    return stored


class CaseOpener:
    """``MissedCharges``: auto-pay and the payments API report their declines here."""

    def __init__(self, ports: DunningPorts) -> None:
        self.ports = ports

    async def charge_missed(self, missed: MissedCharge) -> DunningCase:
        return await open_dunning_case(missed, self.ports)


class SubscriptionDunning:
    """Billing's ``Dunning`` port: a declined or failed period opens a case."""

    def __init__(self, ports: DunningPorts) -> None:
        self.ports = ports

    async def charge_missed(self, claimed: ClaimedEntry, outcome: EntryStatus, reason: str) -> None:
        entry, subscription = claimed.entry, claimed.subscription
        if not entry.invoice_number:
            return  # never invoiced: nothing to collect
        missed = MissedCharge(
            source=CaseSource.SUBSCRIPTION,
            source_key=f"subscription-entry:{entry.id}",
            invoice_number=entry.invoice_number,
            customer_account=subscription.customer_account,
            vault_customer_id=subscription.vault_customer_id,
            amount=entry.total,
            at=self.ports.clock.now(),
            outcome=(
                AttemptOutcome.DECLINED
                if outcome is EntryStatus.DECLINED
                else AttemptOutcome.FAILED
            ),
            reason=reason,
            gateway_txn_id=entry.gateway_txn_id,
            subscription_id=subscription.id,
        )
        await open_dunning_case(missed, self.ports)


async def retry_due(
    cmd: RetryDue, ports: DunningPorts, *, case_id: int | None = None
) -> RetryReport:
    """Claim the due attempts (of ``case_id`` only, when given) and make each one, once."""
    claimed = await ports.store.claim_due(
        ports.clock.now(),
        limit=cmd.max_per_run,
        owner=cmd.owner,
        lease=cmd.lease,
        case_id=case_id,
    )
    report = RetryReport()
    for item in claimed:
        if report.stopped:
            await ports.store.release(item.attempt_id, f"run stopped: {report.stopped}")
            outcome = "waiting"
        else:
            outcome = await _attempt(item, ports, report)
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    return report


class _Start:
    def __init__(self, store: DunningStore, attempt_id: int) -> None:
        self.store, self.attempt_id = store, attempt_id

    async def start(self) -> bool:
        return await self.store.start_charge(self.attempt_id)


async def _attempt(item: ClaimedAttempt, ports: DunningPorts, report: RetryReport) -> str:
    case = item.case
    charge = InvoiceCharge(
        invoice_number=case.invoice_number,
        customer_account=case.customer_account,
        card=StoredCard(case.vault_customer_id),
        client=DUNNING_CLIENT,
        since=item.started_at,
        review_key=f"{DUNNING_CLIENT}:{case.invoice_number}:{case.id}:{item.no}",
    )
    try:
        ctx = await ports.charging()
        result = await charge_invoice_once(
            charge, ctx=ctx, attempts=_Start(ports.store, item.attempt_id)
        )
        if result.outcome is AutoPayOutcome.HELD:  # no retry counted: the approval runs it
            await ports.store.release(item.attempt_id, result.reason)
            return "held"
        attempt = await _attempt_of(item, result, ctx, ports.policy)
    except PayLedgerError as exc:  # an outage (or a refusal to look at): resumed next run
        error = f"{type(exc).__name__}: {exc}"
        if exc.retryable:
            report.stopped = report.stopped or error
        await ports.store.release(item.attempt_id, error)
        return "waiting"
    await settle_attempt(case.id, attempt, ports)
    return attempt.outcome.value


async def _attempt_of(
    item: ClaimedAttempt, result: AutoPayResult, ctx: ChargeContext, policy: DunningPolicy
) -> Attempt:
    outcome = {
        AutoPayOutcome.CHARGED: AttemptOutcome.APPROVED,
        AutoPayOutcome.DECLINED: AttemptOutcome.DECLINED,
        AutoPayOutcome.FAILED: AttemptOutcome.FAILED,
        AutoPayOutcome.SKIPPED: AttemptOutcome.NOTHING_OPEN,
        AutoPayOutcome.REJECTED: AttemptOutcome.FAILED,  # refused by the merchant: hard
    }[result.outcome]
    txn = result.gateway_txn_id
    if outcome is AttemptOutcome.NOTHING_OPEN:  # paid by this attempt, before a crash?
        txn = await _approved_since(item, ctx)
        outcome = AttemptOutcome.APPROVED if txn else outcome
    cls = None
    if outcome in (AttemptOutcome.DECLINED, AttemptOutcome.FAILED):
        cls = _class_of(outcome, result.reason, policy)
    return Attempt(item.no, item.started_at, outcome, cls, result.reason, txn)


async def _approved_since(item: ClaimedAttempt, ctx: ChargeContext) -> str:
    records = await ctx.records.for_receivable(ReceivableKind.INVOICE, item.case.invoice_number)
    approved = [
        r
        for r in records
        if r.state is PaymentState.APPROVED
        and r.client == DUNNING_CLIENT
        and r.created_at >= item.started_at
    ]
    return approved[-1].gateway_txn_id if approved else ""


def _class_of(outcome: AttemptOutcome, reason: str, policy: DunningPolicy) -> DeclineClass:
    if outcome is AttemptOutcome.FAILED:  # the card on file itself was refused
        return DeclineClass.HARD
    return classify(Decline("", reason), policy.table)


async def settle_attempt(case_id: int, attempt: Attempt, ports: DunningPorts) -> DunningCase:
    """Store the finished ``attempt`` and what it makes of its case (read again if an operator
    changed it meanwhile), then carry out the follow-up."""
    for _ in range(5):
        case = await _get(case_id, ports.store)
        moved, followup = after_attempt(case, attempt, ports.policy.schedule)
        try:
            stored = await ports.store.change(
                moved,
                actor=DUNNING_ACTOR,
                action=f"dunning.attempt_{attempt.outcome.value}",
                detail={"attempt": attempt.no, "reason": attempt.reason},
            )
            break
        except StaleCase:
            continue
    else:
        raise StaleCase(f"dunning case {case_id} kept changing; the attempt is resumed later")
    log.info("dunning.attempt", case=case_id, attempt=attempt.no, outcome=attempt.outcome.value)
    await _follow(stored, followup, ports)
    if stored.status is CaseStatus.RECOVERED:
        await _reactivate(stored, ports)
    elif attempt.outcome in (AttemptOutcome.DECLINED, AttemptOutcome.FAILED):
        await _watch_declines(ports)
    return stored


async def _reactivate(case: DunningCase, ports: DunningPorts) -> None:
    """A recovered subscription is active again (unless paused or cancelled meanwhile)."""
    if case.subscription_id is None or ports.subscriptions is None:
        return
    settled = await ports.subscriptions.settle_status(
        case.subscription_id,
        SubscriptionStatus.ACTIVE,
        reason=f"dunning case {case.id} recovered {case.invoice_number}",
    )
    if settled is not None and ports.mirror is not None:
        try:
            await ports.mirror.set_status(settled.customer_account, settled.status.value)
        except PayLedgerError as exc:  # a display field: the next status change writes it
            log.warning("dunning.mirror_failed", case=case.id, error=str(exc))


async def retry_case_now(
    case_id: int, ports: DunningPorts, cmd: RetryDue, *, actor: str, card_replaced: bool = False
) -> DunningCase:
    """Retry at once (an operator's action, or a customer's new card), even on a day that
    already had an attempt; returns the case after the attempt."""
    case = await _get(case_id, ports.store)
    due = retry_now(case, ports.clock.now(), card_replaced=card_replaced)
    action = "dunning.card_updated" if card_replaced else "dunning.retry_now"
    await ports.store.change(due, actor=actor, action=action, detail={})
    await retry_due(cmd, ports, case_id=case_id)
    return await _get(case_id, ports.store)


async def card_updated(
    case_id: int, ports: DunningPorts, cmd: RetryDue, *, actor: str = "customer"
) -> DunningCase:
    """The customer gave a new card (the card-update page calls this): retried at once."""
    return await retry_case_now(case_id, ports, cmd, actor=actor, card_replaced=True)


async def stop_case(case_id: int, ports: DunningPorts, *, actor: str, reason: str) -> DunningCase:
    """An operator stops the case: no more retries or notices; the ERP is left as it is."""
    return await _close(case_id, CaseStatus.STOPPED, ports, actor=actor, reason=reason)


async def mark_paid_elsewhere(
    case_id: int, ports: DunningPorts, *, actor: str, reason: str
) -> DunningCase:
    """An operator records that the customer paid another way: closed, the ERP's collections
    undone."""
    return await _close(case_id, CaseStatus.PAID_ELSEWHERE, ports, actor=actor, reason=reason)


async def _close(
    case_id: int, status: CaseStatus, ports: DunningPorts, *, actor: str, reason: str
) -> DunningCase:
    closed, followup = close(await _get(case_id, ports.store), status, reason)
    stored = await ports.store.change(
        closed, actor=actor, action=f"dunning.{status.value}", detail={"reason": reason}
    )
    await _follow(stored, followup, ports)
    return stored


async def _get(case_id: int, store: DunningStore) -> DunningCase:
    case = await store.get(case_id)
    if case is None:
        raise UnknownCase(f"no dunning case {case_id}")
    return case


async def _follow(case: DunningCase, followup: Followup, ports: DunningPorts) -> None:
    """Carry out a transition's follow-up; a failure is the operators' to fix, not the case's."""
    notices, erp = ports.parts.notices, ports.parts.erp
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if followup.notice is not None:
        notice = followup.notice
        steps.append((f"notice {notice.value}", lambda: notices.notify(case, notice)))
    if followup.stage is not None:
        stage = followup.stage
        steps.append((f"ERP stage {stage.value}", lambda: erp.advance(case, stage)))
    if followup.undo:
        steps.append(("ERP undo", lambda: erp.undo(case)))
    for what, step in steps:
        try:
            await step()
        except PayLedgerError as exc:
            await ports.alerts.notify(
                FOLLOWUP_ALERT,
                "A dunning step could not be carried out",
                f"Dunning case {case.id} (invoice {case.invoice_number}): the {what} failed: "
                f"{exc}. The case itself is stored; carry out the step by hand.",
                facts={"case": case.id, "step": what, "error": str(exc)},
            )


async def _watch_declines(ports: DunningPorts) -> None:
    threshold = ports.policy.burst_per_hour
    if not threshold:
        return
    now = ports.clock.now()
    declines = await ports.store.declines_since(now - timedelta(hours=1))
    if declines > threshold:
        await ports.alerts.notify(
            BURST_ALERT,
            "A burst of declined charges",
            f"{declines} charges were declined within the last hour (more than {threshold}): "
            "check the gateway and the card accounts.",
            facts={"declines": declines, "threshold": threshold, "at": now.isoformat()},
        )
