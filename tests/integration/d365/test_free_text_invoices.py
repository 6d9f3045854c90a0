"""D365FreeTextInvoices and D365SubscriptionMirror against the F&O sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings, WritesDisabled
from payledger.adapters.d365.free_text_invoices import (
    D365FreeTextInvoices,
    D365SubscriptionMirror,
)
from payledger.adapters.d365.journal_service import D365JournalPoster
from payledger.adapters.d365.receivables import D365Receivables
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.config import PostingSettings, SubscriptionSettings
from payledger.domain.errors import AmbiguousOutcome, ConfigError, CurrencyMismatch, RejectedError
from payledger.domain.money import Money
from payledger.flows.ports.billing import (
    FreeTextInvoice,
    FreeTextInvoicing,
    InvoiceLine,
    IssuedInvoice,
    SubscriptionMirror,
)
from tests.integration.d365.conftest import BASE
from tests.integration.d365.journals import journal, payment_line, rows


def billing_on(
    client: D365Client, subscriptions: SubscriptionSettings | None = None
) -> D365FreeTextInvoices:
    ledger = D365Ledger(client, D365Settings(company="usmf"))
    return D365FreeTextInvoices(ledger, subscriptions or SubscriptionSettings(), PostingSettings())


@pytest.fixture
def billing(client) -> D365FreeTextInvoices:
    return billing_on(client)


def period(key: str = "SUB-12-P3", customer: str = "US-001", *amounts: str) -> FreeTextInvoice:
    lines = tuple(
        InvoiceLine(f"Gold plan, line {n}", Money.of(a, "USD"))
        for n, a in enumerate(amounts or ("49.90",), 1)
    )
    return FreeTextInvoice(key, customer, date(2026, 3, 1), "USD", lines)


async def set_faults(control, **changes) -> None:
    answer = await control.put("/_sandbox/faults", json=changes)
    assert answer.status_code == 200, answer.text


async def drafts(control, key: str) -> list[dict]:
    return await rows(control, "FreeTextInvoiceHeaders", CustomerReference=key)


def test_they_implement_the_ports(billing, client):
    invoicing: FreeTextInvoicing = billing
    mirror: SubscriptionMirror = D365SubscriptionMirror(D365Ledger(client), SubscriptionSettings())
    assert invoicing is billing and mirror is not None


async def test_create_find_post_then_the_invoice_is_a_receivable(billing, client, control):
    invoice = period("SUB-12-P3", "US-001", "40.00", "9.90")
    assert await billing.find(invoice.key) is None

    created = await billing.create(invoice)

    assert created == IssuedInvoice("SUB-12-P3", "", posted=False)
    assert await billing.find("SUB-12-P3") == created
    [header] = await drafts(control, "SUB-12-P3")
    lines = await rows(
        control, "FreeTextInvoiceLines", InvoiceIdentifier=header["InvoiceIdentifier"]
    )
    assert [(line["MainAccountDisplayValue"], line["UnitPrice"]) for line in lines] == [
        ("401100", 40),
        ("401100", 9.9),
    ]

    posted = await billing.post("SUB-12-P3")

    assert posted.posted and posted.number.startswith("CIV-")
    assert await billing.find("SUB-12-P3") == posted
    receivable = await D365Receivables(D365Ledger(client)).invoice(posted.number)
    assert receivable is not None
    assert receivable.total == Money.of("49.90", "USD")
    assert receivable.customer_account == "US-001"


async def test_creating_the_same_key_twice_makes_one_invoice(billing, control):
    first = await billing.create(period("SUB-1-P1"))
    second = await billing.create(period("SUB-1-P1"))
    assert first == second
    assert len(await drafts(control, "SUB-1-P1")) == 1


async def test_a_lost_answer_is_found_by_key_not_sent_twice(
    credential, transport, control, sandbox
):
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with D365Client(BASE, credential, transport=transport, retry=retry, timeout=0.3) as slow:
        billing = billing_on(slow)
        await set_faults(control, drop_after_commit_rate=1.0)
        created = await billing.create(period("SUB-2-P1", "US-001", "10.00", "5.00"))
        await set_faults(control, drop_after_commit_rate=0.0)

    assert created == IssuedInvoice("SUB-2-P1", "", posted=False)
    assert sandbox.state.stats.batches == 1  # the one that committed, then went silent
    [header] = await drafts(control, "SUB-2-P1")
    lines = await rows(
        control, "FreeTextInvoiceLines", InvoiceIdentifier=header["InvoiceIdentifier"]
    )
    assert len(lines) == 2


async def test_a_lost_posting_answer_is_read_back(credential, transport, client, control):
    billing = billing_on(client)
    await billing.create(period("SUB-3-P1"))
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    async with D365Client(BASE, credential, transport=transport, retry=retry, timeout=0.3) as slow:
        await set_faults(control, drop_after_commit_rate=1.0)
        posted = await billing_on(slow).post("SUB-3-P1")
        await set_faults(control, drop_after_commit_rate=0.0)
    assert posted.posted and posted.number == (await billing.find("SUB-3-P1")).number


@pytest.mark.parametrize("answer", ["garbage", "wrong_shape"])
async def test_an_answer_that_is_not_the_services_is_resolved_by_key(billing, control, answer):
    await billing.create(period("SUB-4-P1"))
    await set_faults(control, service_answer=answer)
    posted = await billing.post("SUB-4-P1")
    assert posted.posted and posted.number.startswith("CIV-")


async def test_an_unknown_customer_is_refused_and_nothing_is_written(billing, control):
    with pytest.raises(RejectedError, match="'NOPE-1' in field 'Customer account'") as refused:
        await billing.create(period("SUB-5-P1", "NOPE-1"))
    assert not isinstance(refused.value, AmbiguousOutcome)
    assert await rows(control, "FreeTextInvoiceHeaders") == []
    assert await rows(control, "FreeTextInvoiceLines") == []


async def test_a_line_refused_takes_its_header_with_it(control, client):
    billing = billing_on(client, SubscriptionSettings(revenue_account="999999"))
    with pytest.raises(RejectedError, match="'999999' in field 'Main account'"):
        await billing.create(period("SUB-6-P1"))
    assert await rows(control, "FreeTextInvoiceHeaders") == []


async def test_lines_in_another_currency_are_refused_before_anything_is_sent(billing, control):
    invoice = FreeTextInvoice(
        "SUB-7-P1",
        "US-001",
        date(2026, 3, 1),
        "USD",
        (InvoiceLine("Gold", Money.of("5.00", "EUR")),),
    )
    with pytest.raises(CurrencyMismatch):
        await billing.create(invoice)
    assert await rows(control, "FreeTextInvoiceHeaders") == []


async def test_posting_without_lines_is_refused_and_posts_nothing(billing, client, control):
    await client.create(
        "FreeTextInvoiceHeaders",
        {"dataAreaId": "usmf", "CustomerAccount": "US-001", "CustomerReference": "SUB-8-P1"},
    )
    invoices = await rows(control, "SalesInvoiceHeadersV2")
    with pytest.raises(RejectedError, match="has no lines and cannot be posted"):
        await billing.post("SUB-8-P1")
    assert await billing.find("SUB-8-P1") == IssuedInvoice("SUB-8-P1", "", posted=False)
    assert await rows(control, "SalesInvoiceHeadersV2") == invoices
    with pytest.raises(RejectedError, match="no free-text invoice with CustomerReference"):
        await billing.post("SUB-404")


async def test_posting_twice_returns_the_posted_invoice(billing, control):
    await billing.create(period("SUB-9-P1"))
    first = await billing.post("SUB-9-P1")
    again = await billing.post("SUB-9-P1")
    assert again == first
    assert len(await rows(control, "CustTransactions", Invoice=first.number)) == 1


async def test_a_missing_operation_is_a_configuration_error(client, control):
    billing = billing_on(client, SubscriptionSettings(invoice_operation="noSuchOperation"))
    await billing.create(period("SUB-10-P1"))
    with pytest.raises(ConfigError) as missing:
        await billing.post("SUB-10-P1")
    assert "PayledgerJournalService/noSuchOperation" in str(missing.value)
    assert "[subscriptions] invoice_operation" in str(missing.value)
    [header] = await drafts(control, "SUB-10-P1")
    assert header["IsPosted"] == "No"


async def test_a_payment_journal_marking_it_settles_the_invoice(billing, client, control):
    await billing.create(period("SUB-11-P1", "US-001", "30.00", "19.90"))
    posted = await billing.post("SUB-11-P1")
    poster = D365JournalPoster(D365Ledger(client), PostingSettings())
    assert await poster.open_invoice_amounts([posted.number]) == {posted.number: Decimal("49.90")}

    batch = await journal(client, payment_line("", "49.90", invoice=posted.number))
    await poster.post_journal(batch)

    assert await poster.open_invoice_amounts([posted.number]) == {posted.number: Decimal(0)}


async def test_shadow_mode_writes_nothing(credential, transport, client, control):
    await billing_on(client).create(period("SUB-13-P1"))
    async with D365Client(BASE, credential, transport=transport, read_only=True) as shadow:
        billing = billing_on(shadow)
        with pytest.raises(WritesDisabled):
            await billing.create(period("SUB-13-P2"))
        with pytest.raises(WritesDisabled):
            await billing.post("SUB-13-P1")
        with pytest.raises(WritesDisabled):
            await D365SubscriptionMirror(D365Ledger(shadow), SubscriptionSettings()).set_status(
                "US-001", "active"
            )
    assert await drafts(control, "SUB-13-P2") == []
    [header] = await drafts(control, "SUB-13-P1")
    assert header["IsPosted"] == "No"


async def test_the_mirror_sets_the_status_and_skips_without_a_field(client, control):
    mirror = D365SubscriptionMirror(D365Ledger(client), SubscriptionSettings())
    await mirror.set_status("US-002", "past_due")
    await mirror.set_status("US-002", "past_due")
    [customer] = await rows(control, "CustomersV3", CustomerAccount="US-002")
    assert customer["PayTraceSubscriptionStatus"] == "past_due"

    silent = D365SubscriptionMirror(D365Ledger(client), SubscriptionSettings(status_field=""))
    await silent.set_status("US-002", "cancelled")
    [customer] = await rows(control, "CustomersV3", CustomerAccount="US-002")
    assert customer["PayTraceSubscriptionStatus"] == "past_due"

    with pytest.raises(RejectedError):
        await mirror.set_status("NOPE-2", "active")
