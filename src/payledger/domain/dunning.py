"""Dunning: what a missed charge becomes, and how its case moves with each retry.

A :class:`DunningCase` follows one missed charge of an invoice (a subscription period, an
auto-pay invoice, or an API charge marked ``dunning``) until it is recovered, exhausted,
stopped or paid elsewhere. The decline's processor text decides its class (:func:`classify`);
a soft decline is retried on the schedule of :mod:`payledger.domain.dunning_schedule`, a hard
one waits for a card update. Every transition returns the case and the :class:`Followup`
(the customer notice, the ERP collections stage) the flow then carries out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.errors import DomainError
from payledger.domain.money import Money


class DeclineClass(StrEnum):
    SOFT = "soft"
    """May pass later (insufficient funds, issuer unavailable): retried on the schedule."""
    HARD = "hard"
    """Will not pass on this card (stolen, closed, expired): wait for a card update."""


@dataclass(frozen=True)
class Decline:
    """What the gateway said: its response code and the processor's approval text."""

    response_code: str
    text: str


@dataclass(frozen=True)
class DeclineTable:
    """Patterns (regular expressions, searched case-insensitively; a plain phrase is a
    substring) of hard and soft declines; hard ones are tried first."""

    hard: tuple[str, ...]
    soft: tuple[str, ...]
    unknown: DeclineClass = DeclineClass.SOFT


def classify(decline: Decline, table: DeclineTable) -> DeclineClass:
    """The class of ``decline`` by its text: the first table (hard, then soft) with a matching
    pattern, else ``table.unknown``. The response code (102 for every card decline, 125 for
    checks) says nothing about the class."""
    text = " ".join(decline.text.split())
    for cls, patterns in ((DeclineClass.HARD, table.hard), (DeclineClass.SOFT, table.soft)):
        if any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns):
            return cls
    return table.unknown


class CaseSource(StrEnum):
    SUBSCRIPTION = "subscription"
    AUTO_PAY = "auto_pay"
    API = "api"


class CaseStatus(StrEnum):
    OPEN = "open"
    """No retry is scheduled: a hard decline waits for the customer's card update."""
    RETRY_SCHEDULED = "retry_scheduled"
    RECOVERED = "recovered"
    EXHAUSTED = "exhausted"
    """The last scheduled retry was declined (the final notice went out)."""
    STOPPED = "stopped"
    PAID_ELSEWHERE = "paid_elsewhere"


ACTIVE = frozenset({CaseStatus.OPEN, CaseStatus.RETRY_SCHEDULED})
CLOSED = frozenset(CaseStatus) - ACTIVE - {CaseStatus.EXHAUSTED}
"""Final: nothing more happens to the case (an exhausted one still takes a card update)."""


class AttemptOutcome(StrEnum):
    STARTED = "started"
    """Claimed by a worker; not finished (yet)."""
    APPROVED = "approved"
    DECLINED = "declined"
    FAILED = "failed"
    """The gateway refused the charge (e.g. the card on file is gone): like a hard decline."""
    NOTHING_OPEN = "nothing_open"
    """The invoice had nothing open to charge any more."""


@dataclass(frozen=True)
class Attempt:
    """One charge of the case's invoice: number 0 is the charge that was missed."""

    no: int
    at: datetime
    outcome: AttemptOutcome
    decline_class: DeclineClass | None = None
    reason: str = ""
    gateway_txn_id: str = ""


@dataclass(frozen=True)
class MissedCharge:
    """A declined or failed charge of an invoice to a card on file, which opens a case."""

    source: CaseSource
    source_key: str
    """Unique per missed charge: a second report of it finds the same case."""
    invoice_number: str
    customer_account: str
    vault_customer_id: str
    amount: Money
    at: datetime
    outcome: AttemptOutcome
    """``declined`` or ``failed``."""
    reason: str
    gateway_txn_id: str = ""
    subscription_id: int | None = None


@dataclass(frozen=True)
class DunningCase:
    id: int
    source: CaseSource
    source_key: str
    invoice_number: str
    customer_account: str
    vault_customer_id: str
    amount: Money
    status: CaseStatus
    opened_at: datetime
    """When the first charge was declined; retry days count from its local date."""
    next_attempt_at: datetime | None
    attempts: tuple[Attempt, ...]
    card_replaced: bool = False
    """The customer gave a new card since the last hard decline."""
    subscription_id: int | None = None
    reason: str = ""
    """Why the case is where it is (the last decline, or who closed it and why)."""
    version: int = 0

    @property
    def last_attempt(self) -> Attempt:
        return self.attempts[-1]


class NoticeKind(StrEnum):
    PAYMENT_FAILED = "payment_failed"
    RETRY_SCHEDULED = "retry_scheduled"
    FINAL_NOTICE = "final_notice"
    RECOVERED = "recovered"


class CollectionsStage(StrEnum):
    PAST_DUE = "past_due"
    FINAL_ATTEMPT_FAILED = "final_attempt_failed"
    """The customer goes on hold."""


@dataclass(frozen=True)
class Followup:
    """What a transition asks of the world outside: a notice, an ERP stage, or its undoing."""

    notice: NoticeKind | None = None
    stage: CollectionsStage | None = None
    undo: bool = False


class CaseClosed(DomainError):
    """The case's status does not allow this action."""

    code = "not_allowed"


def open_case(missed: MissedCharge, cls: DeclineClass, schedule: RetrySchedule) -> DunningCase:
    """The case of ``missed`` (id 0 until stored): soft → first retry scheduled, hard or
    failed → waiting for a card update."""
    first = Attempt(0, missed.at, missed.outcome, cls, missed.reason, missed.gateway_txn_id)
    case = DunningCase(
        id=0,
        source=missed.source,
        source_key=missed.source_key,
        invoice_number=missed.invoice_number,
        customer_account=missed.customer_account,
        vault_customer_id=missed.vault_customer_id,
        amount=missed.amount,
        status=CaseStatus.OPEN,
        opened_at=missed.at,
        next_attempt_at=None,
        attempts=(first,),
        subscription_id=missed.subscription_id,
        reason=missed.reason,
    )
    return _after_decline(case, cls, schedule)


OPENED = Followup(NoticeKind.PAYMENT_FAILED, CollectionsStage.PAST_DUE)
"""What opening a case asks for."""


def after_attempt(
    case: DunningCase, attempt: Attempt, schedule: RetrySchedule
) -> tuple[DunningCase, Followup]:
    """The case once ``attempt`` finished (it is added to the case's attempts).

    Approved → recovered, whatever the case's status meanwhile (the money was taken). Declined
    or failed on an active or exhausted case → the next retry, or exhausted with the final
    notice; a hard decline waits for a new card. On a case closed meanwhile only the attempt
    is added."""
    attempts = (*[a for a in case.attempts if a.no != attempt.no], attempt)
    case = replace(case, attempts=attempts, reason=attempt.reason or case.reason)
    if attempt.outcome is AttemptOutcome.APPROVED:
        recovered = replace(case, status=CaseStatus.RECOVERED, next_attempt_at=None)
        return recovered, Followup(NoticeKind.RECOVERED, undo=True)
    if attempt.outcome is AttemptOutcome.NOTHING_OPEN:
        closed = replace(case, status=CaseStatus.PAID_ELSEWHERE, next_attempt_at=None)
        return closed, Followup(undo=True)
    if case.status in CLOSED:
        return case, Followup()
    cls = attempt.decline_class or DeclineClass.HARD
    nxt = _after_decline(replace(case, card_replaced=False), cls, schedule)
    if nxt.status is CaseStatus.EXHAUSTED and case.status is CaseStatus.EXHAUSTED:
        return nxt, Followup(NoticeKind.PAYMENT_FAILED)  # a late card update failed too
    if nxt.status is CaseStatus.EXHAUSTED:
        return nxt, Followup(NoticeKind.FINAL_NOTICE, CollectionsStage.FINAL_ATTEMPT_FAILED)
    if nxt.status is CaseStatus.OPEN:
        return nxt, Followup(NoticeKind.PAYMENT_FAILED)
    return nxt, Followup(NoticeKind.RETRY_SCHEDULED)


def _after_decline(case: DunningCase, cls: DeclineClass, schedule: RetrySchedule) -> DunningCase:
    if cls is DeclineClass.HARD:
        return replace(case, status=CaseStatus.OPEN, next_attempt_at=None)
    nxt = schedule.next_retry(case.opened_at, case.last_attempt.at)
    if nxt is None:
        return replace(case, status=CaseStatus.EXHAUSTED, next_attempt_at=None)
    return replace(case, status=CaseStatus.RETRY_SCHEDULED, next_attempt_at=nxt)


def retry_now(case: DunningCase, now: datetime, *, card_replaced: bool = False) -> DunningCase:
    """Due at once (an operator's retry, or the customer's new card): allowed on an active or
    exhausted case, even on a day that already had an attempt."""
    if case.status in CLOSED:
        raise CaseClosed(f"dunning case {case.id} is {case.status.value}; nothing to retry")
    return replace(
        case,
        status=CaseStatus.RETRY_SCHEDULED,
        next_attempt_at=now,
        card_replaced=card_replaced or case.card_replaced,
    )


def close(case: DunningCase, status: CaseStatus, reason: str) -> tuple[DunningCase, Followup]:
    """Stop the case, or close it as paid elsewhere (which undoes the ERP's collections)."""
    if status not in (CaseStatus.STOPPED, CaseStatus.PAID_ELSEWHERE):
        raise ValueError(f"a case is not closed as {status.value} by hand")
    if case.status in CLOSED:
        raise CaseClosed(f"dunning case {case.id} is already {case.status.value}")
    closed = replace(case, status=status, next_attempt_at=None, reason=reason)
    return closed, Followup(undo=status is CaseStatus.PAID_ELSEWHERE)
