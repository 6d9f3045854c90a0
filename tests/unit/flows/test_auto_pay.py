"""Auto-pay decisions, with fakes: who is charged when D365 posts an invoice, and that an
interrupted attempt is finished instead of charged again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from payledger.domain.charges import CardOnFile
from payledger.domain.errors import RejectedError, TransientError
from payledger.domain.model import Outcome, Payment, PaymentKind, PaymentStatus
from payledger.domain.money import Money
from payledger.flows.auto_pay import AutoPayOutcome, InvoicePosted, pay_posted_invoice
from payledger.flows.charge_payment import ChargeContext
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeAttempts,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)

POSTED = InvoicePosted("CIV-1", "US-001", "usmf", WHEN)


@pytest.fixture
def gateway() -> FakeCardGateway:
    return FakeCardGateway()


@pytest.fixture
def erp() -> FakeReceivables:
    erp = FakeReceivables()
    erp.invoice_of("CIV-1", "75.00")
    erp.cards["US-001"] = CardOnFile("vault-1", auto_pay=True)
    return erp


@pytest.fixture
def records() -> FakeChargeRecords:
    return FakeChargeRecords()


@pytest.fixture
def ctx(gateway, erp, records) -> ChargeContext:
    return ChargeContext(
        gateway=gateway, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )


async def pay(ctx, event=POSTED, attempts=None):
    return await pay_posted_invoice(
        event, company="usmf", ctx=ctx, attempts=attempts or FakeChargeAttempts()
    )


async def test_a_customer_with_auto_pay_is_charged_the_open_amount(ctx, gateway, records):
    result = await pay(ctx)
    assert result.outcome is AutoPayOutcome.CHARGED and result.gateway_txn_id == "1001"
    assert gateway.calls == [("sale", Money.of("75.00"))]
    assert records.records["1001"].client == "d365-auto-pay"


async def test_a_second_event_for_the_same_invoice_charges_nothing(ctx, gateway):
    await pay(ctx)
    again = await pay(ctx, replace(POSTED))
    assert again.outcome is AutoPayOutcome.SKIPPED and "nothing open" in again.reason
    assert len(gateway.calls) == 1


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda erp: erp.cards.pop("US-001"), "no card on file"),
        (lambda erp: erp.cards.update({"US-001": CardOnFile("v", auto_pay=False)}), "auto-pay off"),
        (lambda erp: erp.receivables.clear(), "does not exist"),
    ],
)
async def test_no_card_auto_pay_off_or_no_invoice_is_skipped(ctx, erp, gateway, setup, words):
    setup(erp)
    result = await pay(ctx)
    assert result.outcome is AutoPayOutcome.SKIPPED and words in result.reason
    assert gateway.calls == []


@pytest.mark.parametrize(
    "event",
    [replace(POSTED, invoice_number="CIV-*"), replace(POSTED, customer_account="US-00*")],
)
async def test_an_event_naming_no_valid_d365_id_fails_before_anything_is_looked_up(
    ctx, erp, gateway, event
):
    erp.invoice_of("CIV-*", "75.00")
    erp.cards["US-00*"] = CardOnFile("vault-1", auto_pay=True)

    result = await pay(ctx, event)

    assert result.outcome is AutoPayOutcome.FAILED and "wildcard" in result.reason
    assert gateway.calls == []


async def test_invoices_of_another_company_are_left_alone(ctx, gateway):
    result = await pay(ctx, replace(POSTED, legal_entity="DEMF"))
    assert result.outcome is AutoPayOutcome.SKIPPED and "DEMF" in result.reason
    assert gateway.calls == []


async def test_a_decline_and_a_refusal_are_reported(erp, records):
    declining = FakeCardGateway()
    erp.invoice_of("CIV-1", "1.12")
    ctx = ChargeContext(
        gateway=declining, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )
    assert (await pay(ctx)).outcome is AutoPayOutcome.DECLINED
    refusing = FakeCardGateway(fail_next=[RejectedError("the customer profile was not found")])
    ctx = replace(ctx, gateway=refusing)
    failed = await pay(ctx)
    assert failed.outcome is AutoPayOutcome.FAILED and "profile" in failed.reason


async def test_an_interrupted_attempt_is_finished_with_the_charge_it_made(ctx, gateway, records):
    lost = Payment(
        "555", PaymentKind.SALE, PaymentStatus.APPROVED, Money.of("75.00"), WHEN,
        outcome=Outcome.APPROVED, invoice_ref="CIV-1", message="Approved.",
    )  # fmt: skip
    gateway.lost_charges.append(lost)
    result = await pay(ctx, attempts=FakeChargeAttempts(started_before=True))
    assert result.outcome is AutoPayOutcome.CHARGED and result.gateway_txn_id == "555"
    assert gateway.calls == []  # nothing charged again
    assert records.records["555"].invoice_number == "CIV-1"
    assert records.audit == [("api:d365-auto-pay", "payment.recovered", "555")]


async def test_an_interrupted_attempt_that_charged_nothing_charges_now(ctx, gateway):
    result = await pay(ctx, attempts=FakeChargeAttempts(started_before=True))
    assert result.outcome is AutoPayOutcome.CHARGED and gateway.calls == [
        ("sale", Money.of("75.00"))
    ]


async def test_a_charge_not_recorded_is_retried_later_as_an_interrupted_attempt(gateway, erp):
    records = FakeChargeRecords(fail_saves=[TransientError("database unavailable")])
    ctx = ChargeContext(
        gateway=gateway, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )
    attempts = FakeChargeAttempts()
    with pytest.raises(TransientError, match="not recorded"):
        await pay(ctx, attempts=attempts)
    assert attempts.started  # the retry will look the charge up first


async def test_a_charge_running_through_the_api_makes_auto_pay_try_again_later(ctx, records):
    from payledger.domain.charges import ReceivableKind

    await records.hold(ReceivableKind.INVOICE, "CIV-1")
    with pytest.raises(TransientError, match="in progress"):
        await pay(ctx)
