"""The card-update flow on the real link and case stores (SQLite and PostgreSQL): a genuine
link replaces the card once and retries; tampered, expired, reused, forged and over-used links
change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from payledger.domain.card_links import form_token, new_link, sign_link
from payledger.domain.charges import ProtectCard
from payledger.domain.clock import ManualClock
from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    DeclineClass,
    DunningCase,
    MissedCharge,
    NoticeKind,
    open_case,
)
from payledger.domain.dunning_schedule import RetrySchedule
from payledger.domain.money import Money
from payledger.flows.card_update import (
    CardUpdatePorts,
    LinkRefused,
    Problem,
    Result,
    open_page,
    update_card,
)
from payledger.stores.dunning import SqlDunning
from payledger.stores.notices import SqlCardLinks, SqlNoticeOutbox
from tests.fakes_notices import FakeCardOnFile

DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule((1, 3, 5, 7), time(10, 0), "America/Los_Angeles")
KEY = b"link-key-for-tests"
CARD = ProtectCard("hpf-token-from-protect", "enc-key-from-protect")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECLINED)


class Page:
    def __init__(self, database, clock, *, approve: bool = True) -> None:
        self.cases = SqlDunning(database, clock)
        self.vault = FakeCardOnFile()
        self.retried: list[int] = []
        self.approve = approve
        self.clock = clock
        self.outbox = SqlNoticeOutbox(database, clock)

        async def key() -> bytes:
            return KEY

        async def retry(case_id: int) -> DunningCase:
            self.retried.append(case_id)
            case = await self.cases.get(case_id)
            assert case is not None
            outcome = AttemptOutcome.APPROVED if self.approve else AttemptOutcome.DECLINED
            attempt = Attempt(1, clock.now(), outcome, None, "" if self.approve else " NSF ")
            status = CaseStatus.RECOVERED if self.approve else CaseStatus.OPEN
            return replace(case, status=status, attempts=(*case.attempts, attempt))

        self.ports = CardUpdatePorts(
            links=SqlCardLinks(database, clock),
            cases=self.cases,
            vault=self.vault,
            key=key,
            retry=retry,
            clock=clock,
            merchant="Contoso",
            max_posts=3,
        )

    async def case_with_link(self) -> tuple[DunningCase, str]:
        missed = MissedCharge(
            source=CaseSource.AUTO_PAY,
            source_key="auto-pay:INV-7:1",
            invoice_number="INV-7",
            customer_account="US-001",
            vault_customer_id="cust-7",
            amount=Money.of("30.00"),
            at=DECLINED,
            outcome=AttemptOutcome.DECLINED,
            reason="Expired card",
        )
        case, _ = await self.cases.open(
            open_case(missed, DeclineClass.HARD, SCHEDULE), actor="test"
        )
        link = new_link(case.id, self.clock.now() + timedelta(days=14))
        await self.outbox.add(case, NoticeKind.PAYMENT_FAILED, message_id="<m@x>", link=link)
        return case, sign_link(link, KEY)


async def test_a_genuine_link_shows_its_invoice_replaces_the_card_once_and_retries(database, clock):
    page = Page(database, clock)
    case, token = await page.case_with_link()

    shown = await open_page(token, page.ports)
    outcome = await update_card(token, form_token(token, KEY), CARD, page.ports)

    assert (shown.invoice_number, shown.amount, shown.merchant) == (
        "INV-7",
        Money.of("30.00"),
        "Contoso",
    )
    assert outcome.result is Result.PAID
    assert page.vault.replaced == [("cust-7", CARD)]
    assert page.retried == [case.id]
    for again in (
        open_page(token, page.ports),
        update_card(token, form_token(token, KEY), CARD, page.ports),
    ):
        with pytest.raises(LinkRefused) as refused:
            await again
        assert refused.value.problem is Problem.USED
    assert len(page.vault.replaced) == 1


async def test_a_declined_retry_says_why_in_plain_words(database, clock):
    page = Page(database, clock, approve=False)
    _case, token = await page.case_with_link()

    outcome = await update_card(token, form_token(token, KEY), CARD, page.ports)

    assert (outcome.result, outcome.reason) == (Result.DECLINED, "NSF")


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda token, clock: token.replace("z", "z1", 1), Problem.INVALID),
        (lambda token, clock: token[:-2], Problem.INVALID),
        (lambda token, clock: clock.advance(days=14) or token, Problem.EXPIRED),
    ],
)
async def test_a_tampered_or_expired_link_changes_nothing(database, clock, spoil, problem):
    page = Page(database, clock)
    _case, token = await page.case_with_link()
    spoiled = spoil(token, clock)

    for attempt in (
        open_page(spoiled, page.ports),
        update_card(spoiled, form_token(spoiled, KEY), CARD, page.ports),
    ):
        with pytest.raises(LinkRefused) as refused:
            await attempt
        assert refused.value.problem is problem
    assert page.vault.replaced == []
    assert page.retried == []


async def test_a_form_not_made_by_the_links_page_is_refused(database, clock):
    page = Page(database, clock)
    _case, token = await page.case_with_link()

    with pytest.raises(LinkRefused) as refused:
        await update_card(token, "made-up", CARD, page.ports)

    assert refused.value.problem is Problem.FORGED
    assert page.vault.replaced == []
    assert (await open_page(token, page.ports)).invoice_number == "INV-7"  # still usable


async def test_a_refused_card_keeps_the_link_until_too_many_tries(database, clock):
    page = Page(database, clock)
    page.vault.refuse = True
    _case, token = await page.case_with_link()
    form = form_token(token, KEY)

    results = [(await update_card(token, form, CARD, page.ports)).result for _ in range(3)]
    with pytest.raises(LinkRefused) as refused:
        await update_card(token, form, CARD, page.ports)

    assert results == [Result.CARD_REFUSED] * 3
    assert refused.value.problem is Problem.TOO_MANY
    assert page.retried == []


async def test_a_case_that_needs_no_card_any_more_says_so(database, clock):
    page = Page(database, clock)
    case, token = await page.case_with_link()
    await page.cases.change(
        replace(case, status=CaseStatus.STOPPED), actor="ops", action="dunning.stopped", detail={}
    )

    with pytest.raises(LinkRefused) as refused:
        await update_card(token, form_token(token, KEY), CARD, page.ports)

    assert refused.value.problem is Problem.CLOSED
    assert page.vault.replaced == []
    with pytest.raises(LinkRefused) as shown:
        await open_page(token, page.ports)
    assert shown.value.problem is Problem.CLOSED
