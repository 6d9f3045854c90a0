"""The customer's card-update page: a signed link opens it; a new card retries the charge.

A link is checked in three steps: its signature and expiry (:mod:`payledger.domain.card_links`),
then its single-use row. Submitting the form holds the row (``begin``: one compare-and-set that
also counts the submission, so a link takes at most ``max_posts``), replaces the card on file
at the gateway, and consumes the row at once: a refused card gives the row back so the customer
can try another; a submission that died between the two leaves it held, i.e. used (fail
closed). The vault call cannot share a database transaction, so consuming is this
compare-and-set rather than one transaction around both. Then the case is retried at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog

from payledger.domain.card_links import CardLink, LinkExpired, LinkInvalid, read_link, same_form
from payledger.domain.charges import ProtectCard
from payledger.domain.clock import Clock
from payledger.domain.dunning import CLOSED, AttemptOutcome, CaseStatus, DunningCase
from payledger.domain.errors import PayLedgerError, RejectedError
from payledger.domain.money import Money
from payledger.flows.ports import DunningStore
from payledger.flows.ports.notices import CardLinks, CardOnFile, LinkUse

log = structlog.get_logger(__name__)


class Problem(StrEnum):
    """Why a link cannot be used; the page says so and changes nothing."""

    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    CLOSED = "closed"
    """The case needs no card any more (paid, stopped)."""
    TOO_MANY = "too_many"
    FORGED = "forged"
    """The form was not the one the link's page made."""
    BUSY = "busy"
    UNAVAILABLE = "unavailable"


class LinkRefused(Exception):
    """The link or the form cannot be used (see :class:`Problem`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class CardPage:
    """What the page shows: the invoice of the link's case, and nothing else about anyone."""

    invoice_number: str
    amount: Money
    merchant: str


class Result(StrEnum):
    PAID = "paid"
    DECLINED = "declined"
    """The new card was kept but the charge was declined."""
    CARD_REFUSED = "card_refused"
    """The gateway did not accept the card; the link still works."""
    PENDING = "pending"
    """The card was kept; the retry could not be made now and follows later."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    reason: str = ""


@dataclass(frozen=True)
class CardUpdatePorts:
    links: CardLinks
    cases: DunningStore
    vault: CardOnFile
    key: Callable[[], Awaitable[bytes]]
    """The link-signing key (kept in the vault)."""
    retry: Callable[[int], Awaitable[DunningCase]]
    """``flows.dunning.card_updated`` of a case: retried at once, returned as it then is."""
    clock: Clock
    merchant: str
    max_posts: int = 5


async def open_page(token: str, ports: CardUpdatePorts) -> CardPage:
    """The page a link opens.

    Raises:
        LinkRefused: the link is invalid, expired, used, or its case needs no card.
    """
    link = await _genuine(token, ports)
    state = await ports.links.state(link.nonce)
    if state is not LinkUse.OPEN:
        raise LinkRefused(_problem(state))
    case = await _case(link, ports)
    return CardPage(case.invoice_number, case.amount, ports.merchant)


async def update_card(token: str, form: str, card: ProtectCard, ports: CardUpdatePorts) -> Outcome:
    """Replace the card on file with ``card`` and retry the case's charge at once."""
    link = await _genuine(token, ports)
    if not same_form(form, token, await ports.key()):
        raise LinkRefused(Problem.FORGED)
    held = await ports.links.begin(link.nonce, max_posts=ports.max_posts)
    if held is not LinkUse.OPEN:
        raise LinkRefused(_problem(held))
    try:
        case = await _case(link, ports)
        await ports.vault.replace_card(case.vault_customer_id, card)
    except RejectedError as exc:
        await ports.links.finish(link.nonce, used=False)
        log.info("dunning.card_refused", case=link.case_id, error=str(exc))
        return Outcome(Result.CARD_REFUSED, "the card was not accepted; check it or use another")
    except (PayLedgerError, LinkRefused) as exc:
        await ports.links.finish(link.nonce, used=False)
        if isinstance(exc, LinkRefused):
            raise
        raise LinkRefused(Problem.UNAVAILABLE) from exc
    await ports.links.finish(link.nonce, used=True)
    log.info("dunning.card_replaced", case=case.id)
    return await _retried(case, ports)


async def _retried(case: DunningCase, ports: CardUpdatePorts) -> Outcome:
    try:
        after = await ports.retry(case.id)
    except PayLedgerError as exc:
        log.warning("dunning.card_retry_failed", case=case.id, error=str(exc))
        return Outcome(Result.PENDING)
    if after.status is CaseStatus.RECOVERED:
        return Outcome(Result.PAID)
    last = after.last_attempt
    if last.no == 0 or last.outcome is AttemptOutcome.STARTED:
        return Outcome(Result.PENDING)
    return Outcome(Result.DECLINED, " ".join(last.reason.split()) or "the card was declined")


async def _genuine(token: str, ports: CardUpdatePorts) -> CardLink:
    try:
        return read_link(token, await ports.key(), ports.clock.now())
    except LinkInvalid:
        raise LinkRefused(Problem.INVALID) from None
    except LinkExpired:
        raise LinkRefused(Problem.EXPIRED) from None


async def _case(link: CardLink, ports: CardUpdatePorts) -> DunningCase:
    case = await ports.cases.get(link.case_id)
    if case is None:
        raise LinkRefused(Problem.INVALID)
    if case.status in CLOSED:
        raise LinkRefused(Problem.CLOSED)
    return case


def _problem(state: LinkUse) -> Problem:
    return {
        LinkUse.USED: Problem.USED,
        LinkUse.BUSY: Problem.BUSY,
        LinkUse.TOO_MANY: Problem.TOO_MANY,
        LinkUse.UNKNOWN: Problem.INVALID,
    }.get(state, Problem.INVALID)
