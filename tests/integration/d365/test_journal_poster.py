"""D365JournalPoster against the F&O sandbox: posting, reading back, and every way it can fail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings, WritesDisabled
from payledger.adapters.d365.journal_service import D365JournalPoster
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.config import PostingSettings
from payledger.domain.errors import (
    AmbiguousOutcome,
    ConfigError,
    RateLimited,
    RejectedError,
    TransientError,
)
from payledger.flows.ports.journal_posting import JournalPoster, JournalReadback
from tests.integration.d365.conftest import BASE
from tests.integration.d365.journals import invoice, journal, payment_line, rows


def poster_on(client: D365Client, posting: PostingSettings | None = None) -> D365JournalPoster:
    return D365JournalPoster(
        D365Ledger(client, D365Settings(company="usmf")), posting or PostingSettings()
    )


@pytest.fixture
def poster(client) -> D365JournalPoster:
    return poster_on(client)


async def set_faults(control, **changes) -> None:
    answer = await control.put("/_sandbox/faults", json=changes)
    assert answer.status_code == 200, answer.text


async def is_posted(control, batch: str) -> bool:
    [header] = await rows(control, "CustomerPaymentJournalHeaders", JournalBatchNumber=batch)
    return header["IsPosted"] == "Yes"


def test_it_implements_the_port(poster):
    port: JournalPoster = poster
    assert port is poster


async def test_post_then_read_back(poster, client):
    batch = await journal(
        client,
        payment_line("", "40.00"),
        payment_line("", "0", CreditAmount=Decimal(0), DebitAmount=Decimal("7.50")),
    )
    assert await poster.read_journal(batch) == JournalReadback(
        batch, exists=True, is_posted=False, line_count=2, total=Decimal("32.50")
    )

    await poster.post_journal(batch)

    assert await poster.read_journal(batch) == JournalReadback(
        batch, exists=True, is_posted=True, line_count=2, total=Decimal("32.50")
    )
    assert await poster.read_journal("88888") == JournalReadback(
        "88888", exists=False, is_posted=False
    )


async def test_a_refusal_carries_d365s_words_and_posts_nothing(poster, client, control):
    unbalanced = await journal(
        client, payment_line("", "10.00", OffsetAccountDisplayValue="", OffsetAccountType="Ledger")
    )
    with pytest.raises(RejectedError, match="do not balance") as refused:
        await poster.post_journal(unbalanced)
    assert not isinstance(refused.value, ConfigError | AmbiguousOutcome)
    assert refused.value.status == 500
    assert not await is_posted(control, unbalanced)
    with pytest.raises(RejectedError, match="does not exist"):
        await poster.post_journal("77777")


async def test_posting_a_posted_journal_again_is_not_an_error(poster, client, sandbox):
    batch = await journal(client, payment_line("", "5.00"))
    await poster.post_journal(batch)
    await poster.post_journal(batch)  # D365 refuses ("already posted"): it is posted
    assert [j["batch"] for j in sandbox.state.posted_journals] == [batch]


async def test_a_missing_service_is_a_configuration_error(client, control):
    batch = await journal(client, payment_line("", "5.00"))
    misnamed = poster_on(client, PostingSettings(service="NoSuchService"))
    with pytest.raises(ConfigError) as missing:
        await misnamed.post_journal(batch)
    message = str(missing.value)
    assert f"{BASE}/api/services/PayledgerServices/NoSuchService/postJournal" in message
    assert "[posting] service_group, service and operation" in message

    await set_faults(control, service_answer="missing")
    with pytest.raises(ConfigError, match="PayledgerJournalService/postJournal"):
        await poster_on(client).post_journal(batch)
    assert not await is_posted(control, batch)


@pytest.mark.parametrize("answer", ["garbage", "wrong_shape"])
async def test_an_answer_that_is_not_the_services_is_ambiguous(poster, client, control, answer):
    batch = await journal(client, payment_line("", "6.00"))
    await set_faults(control, service_answer=answer)
    with pytest.raises(AmbiguousOutcome, match="read the journal"):
        await poster.post_journal(batch)
    assert (await poster.read_journal(batch)).is_posted  # reading back tells what happened


async def test_a_lost_answer_is_ambiguous(credential, transport, client, control):
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with D365Client(BASE, credential, transport=transport, retry=retry, timeout=0.3) as slow:
        batch = await journal(client, payment_line("", "8.00"))
        await set_faults(control, drop_after_commit_rate=1.0)
        with pytest.raises(AmbiguousOutcome):
            await poster_on(slow).post_journal(batch)
        await set_faults(control, drop_after_commit_rate=0.0)
    assert await is_posted(control, batch)


@pytest.fixture
async def hasty(credential, transport):
    """A connector that does not retry by itself: throttling and 5xx reach the caller."""
    retry = RetryPolicy(max_attempts=1, max_throttled_attempts=1)
    async with D365Client(BASE, credential, transport=transport, retry=retry) as d365:
        yield poster_on(d365)


async def test_throttling_and_outages_are_transient(hasty, client, control):
    batch = await journal(client, payment_line("", "9.00"))
    await set_faults(control, rate_limit_rate=1.0, retry_after_s=1)
    with pytest.raises(RateLimited) as throttled:
        await hasty.post_journal(batch)
    assert throttled.value.retry_after == 1
    await set_faults(control, rate_limit_rate=0.0, error_rate=1.0, error_status=503)
    with pytest.raises(TransientError) as down:
        await hasty.post_journal(batch)
    assert down.value.status == 503 and not isinstance(down.value, RateLimited)
    await set_faults(control, error_rate=0.0)
    assert not await is_posted(control, batch)


async def test_shadow_mode_refuses_to_post(credential, transport, client, control, sandbox):
    batch = await journal(client, payment_line("", "4.00"))
    async with D365Client(BASE, credential, transport=transport, read_only=True) as read_only:
        with pytest.raises(WritesDisabled, match="shadow mode"):
            await poster_on(read_only).post_journal(batch)
    assert not await is_posted(control, batch)
    assert sandbox.state.posted_journals == []


async def test_open_amounts_of_known_invoices_in_few_queries(poster, control, sandbox):
    numbers = [await invoice(control, f"{n}.00") for n in range(10, 55)]  # 45: two queries
    before = sandbox.state.stats.odata_requests
    amounts = await poster.open_invoice_amounts([*numbers, "CIV-NOPE"])
    assert sandbox.state.stats.odata_requests - before == 2
    assert amounts == {number: Decimal(f"{n}.00") for n, number in zip(range(10, 55), numbers)}
