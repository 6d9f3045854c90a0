"""Charging rules, with fakes: what is open, what may be captured, voided and refunded, and
that nothing reaches the gateway when a rule says no."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.domain.charges import (
    ChargeRecord,
    PaymentState,
    Receivable,
    ReceivableKind,
    StoredCard,
    open_amount,
)
from payledger.domain.erp_keys import InvalidErpValue
from payledger.domain.errors import TransientError
from payledger.domain.model import PaymentKind
from payledger.domain.money import Money
from payledger.flows.charge_payment import (
    AmountRefused,
    Busy,
    Charge,
    ChargeContext,
    ChargeNotRecorded,
    NotAllowed,
    NotFound,
    capture_payment,
    charge_receivable,
    refund_payment,
    void_payment,
)
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)

CARD = StoredCard("cust-1")


@pytest.fixture
def gateway() -> FakeCardGateway:
    return FakeCardGateway()


@pytest.fixture
def erp() -> FakeReceivables:
    erp = FakeReceivables()
    erp.invoice_of("INV-1", "100.00")
    erp.order_of("SO-1", "250.00")
    return erp


@pytest.fixture
def records() -> FakeChargeRecords:
    return FakeChargeRecords()


@pytest.fixture
def ctx(gateway, erp, records) -> ChargeContext:
    return ChargeContext(
        gateway=gateway, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )


def charge(number="INV-1", kind=ReceivableKind.INVOICE, **extra) -> Charge:
    return Charge(kind=kind, number=number, card=CARD, client="shop", **extra)


def record(txn: str, kind=PaymentKind.SALE, state=PaymentState.APPROVED, amount="40.00", **extra):
    zero = Money.zero()
    values = {"captured": zero, "refunded": zero, **extra}
    return ChargeRecord(txn, "shop", kind, state, Money.of(amount), created_at=WHEN, **values)


def receivable(total="100.00", **extra) -> Receivable:
    return Receivable(ReceivableKind.INVOICE, "INV-1", "US-001", Money.of(total), **extra)


# ---- what is open ----------------------------------------------------------------------------


def test_open_is_the_total_less_ledger_lines_and_own_payments_each_counted_once():
    ledger = {"7001": Money.of("30.00"), "line:J1:2": Money.of("10.00")}
    own = [record("7001", amount="30.00"), record("7002", amount="15.00")]
    assert open_amount(receivable(paid_in_ledger=ledger), own) == Money.of("45.00")


def test_own_refunds_declines_and_voids_give_money_back_to_the_invoice():
    own = [
        record("1", amount="60.00", refunded=Money.of("20.00")),
        record("2", kind=PaymentKind.REFUND, amount="20.00", original_txn_id="1"),
        record("3", state=PaymentState.DECLINED),
        record("4", state=PaymentState.VOIDED),
    ]
    assert open_amount(receivable(), own) == Money.of("60.00")


def test_an_authorization_holds_its_amount_until_captured_then_the_captured_part():
    held = record("1", kind=PaymentKind.AUTHORIZATION, state=PaymentState.AUTHORIZED)
    captured = record(
        "1", kind=PaymentKind.AUTHORIZATION, state=PaymentState.CAPTURED, captured=Money.of("25.00")
    )
    assert open_amount(receivable(), [held]) == Money.of("60.00")
    assert open_amount(receivable(), [captured]) == Money.of("75.00")


def test_an_invoice_of_an_order_paid_at_checkout_is_not_open():
    paid_order = receivable(sales_order_number="SO-9", order_paid=Money.of("100.00"))
    assert open_amount(paid_order, []) == Money.zero()
    # payledger's own payments on that order are the better figure when there are any
    own = [record("5", amount="40.00", sales_order_number="SO-9")]
    assert open_amount(paid_order, own) == Money.of("60.00")


def test_open_is_never_negative():
    assert open_amount(receivable(paid_in_ledger={"1": Money.of("120.00")}), []) == Money.zero()


# ---- charging ---------------------------------------------------------------------------------


async def test_a_charge_takes_the_open_amount_and_records_its_ledger_event(ctx, gateway, records):
    charged = await charge_receivable(charge(), ctx)
    assert gateway.calls == [("sale", Money.of("100.00"))]
    assert charged.record.state is PaymentState.APPROVED
    assert (charged.record.invoice_number, charged.record.customer_account) == ("INV-1", "US-001")
    [event] = records.events
    assert event.event_id == "fakepay:1001:sale:approved" and event.source == "fakepay"
    assert records.audit == [("api:shop", "payment.charged", "1001")]


async def test_an_order_can_be_authorized_only(ctx, gateway):
    charged = await charge_receivable(
        charge("SO-1", ReceivableKind.SALES_ORDER, capture=False), ctx
    )
    assert gateway.calls == [("authorization", Money.of("250.00"))]
    assert charged.record.state is PaymentState.AUTHORIZED
    assert charged.record.sales_order_number == "SO-1"


async def test_a_decline_is_recorded_and_leaves_the_invoice_open(ctx, records):
    declined = await charge_receivable(charge(amount=Decimal("1.12")), ctx)
    assert declined.record.state is PaymentState.DECLINED
    assert records.audit[-1][1] == "payment.declined"
    again = await charge_receivable(charge(), ctx)
    assert again.record.amount == Money.of("100.00")


@pytest.mark.parametrize(
    ("command", "error", "words"),
    [
        (charge("INV-404"), NotFound, "invoice INV-404 does not exist"),
        (charge("SO-404", ReceivableKind.SALES_ORDER), NotFound, "sales order SO-404"),
        (charge(amount=Decimal("100.01")), AmountRefused, "more than the 100.00 USD open"),
        (charge(amount=Decimal("0")), AmountRefused, "more than 0"),
        (charge(currency="EUR"), AmountRefused, "charged in USD, not EUR"),
        (charge("CIV-*"), InvalidErpValue, r"invoice 'CIV-\*' is not a valid D365 id"),
        (charge("SO'1", ReceivableKind.SALES_ORDER), InvalidErpValue, "sales_order"),
    ],
)
async def test_refused_charges_never_reach_the_gateway(ctx, gateway, command, error, words):
    with pytest.raises(error, match=words):
        await charge_receivable(command, ctx)
    assert gateway.calls == []


async def test_a_paid_invoice_has_nothing_open(ctx, gateway):
    await charge_receivable(charge(), ctx)
    with pytest.raises(NotAllowed, match="nothing open"):
        await charge_receivable(charge(), ctx)
    assert len(gateway.calls) == 1


async def test_a_receivable_in_another_currency_is_refused(ctx, erp, gateway):
    erp.receivables[(ReceivableKind.INVOICE, "INV-EUR")] = Receivable(
        ReceivableKind.INVOICE, "INV-EUR", "DE-1", Money.of("10.00", "EUR")
    )
    with pytest.raises(AmountRefused, match="is in EUR"):
        await charge_receivable(charge("INV-EUR"), ctx)
    assert gateway.calls == []


async def test_a_charge_the_database_could_not_record_is_reported_not_lost(gateway, erp):
    records = FakeChargeRecords(fail_saves=[TransientError("database unavailable")])
    ctx = ChargeContext(
        gateway=gateway, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )
    with pytest.raises(ChargeNotRecorded) as raised:
        await charge_receivable(charge(), ctx)
    assert raised.value.record.gateway_txn_id == "1001"
    assert not raised.value.retryable  # a retry must not charge again


# ---- follow-ups -------------------------------------------------------------------------------


async def test_only_an_open_authorization_is_captured_and_never_above_its_amount(ctx, gateway):
    auth = (
        await charge_receivable(charge("SO-1", ReceivableKind.SALES_ORDER, capture=False), ctx)
    ).record
    with pytest.raises(AmountRefused, match=r"more than the 250\.00 USD authorized"):
        await capture_payment(auth.gateway_txn_id, Decimal("250.01"), "shop", ctx)
    captured = await capture_payment(auth.gateway_txn_id, Decimal("200.00"), "shop", ctx)
    assert (captured.state, captured.captured) == (PaymentState.CAPTURED, Money.of("200.00"))
    with pytest.raises(NotAllowed, match="only an authorization"):
        await capture_payment(auth.gateway_txn_id, None, "shop", ctx)
    assert [call for call, _ in gateway.calls] == ["authorization", "capture"]


async def test_a_sale_is_refunded_up_to_what_is_left(ctx, gateway):
    sale = (await charge_receivable(charge(), ctx)).record
    refund, original = await refund_payment(sale.gateway_txn_id, Decimal("30.00"), "shop", ctx)
    assert (refund.kind, refund.original_txn_id) == (PaymentKind.REFUND, sale.gateway_txn_id)
    assert original.refunded == Money.of("30.00") and original.state is PaymentState.APPROVED
    with pytest.raises(AmountRefused, match=r"70\.00 USD left"):
        await refund_payment(sale.gateway_txn_id, Decimal("70.01"), "shop", ctx)
    _, original = await refund_payment(sale.gateway_txn_id, None, "shop", ctx)
    assert original.state is PaymentState.REFUNDED
    with pytest.raises(NotAllowed, match="nothing left"):
        await refund_payment(sale.gateway_txn_id, None, "shop", ctx)
    assert [amount for call, amount in gateway.calls if call == "refund"] == [
        Money.of("30.00"),
        Money.of("70.00"),
    ]


async def test_a_voided_or_partly_refunded_payment_cannot_be_voided(ctx, gateway):
    first = (await charge_receivable(charge(amount=Decimal("50.00")), ctx)).record
    second = (await charge_receivable(charge(), ctx)).record
    voided = await void_payment(first.gateway_txn_id, "shop", ctx)
    assert voided.state is PaymentState.VOIDED
    with pytest.raises(NotAllowed, match="only an approved sale"):
        await void_payment(first.gateway_txn_id, "shop", ctx)
    await refund_payment(second.gateway_txn_id, Decimal("5.00"), "shop", ctx)
    with pytest.raises(NotAllowed, match="partly refunded"):
        await void_payment(second.gateway_txn_id, "shop", ctx)
    # the voided 50.00 is open again
    assert await charge_receivable(charge(amount=Decimal("50.00")), ctx)


async def test_follow_ups_of_unknown_payments_are_not_found(ctx):
    for step in (
        capture_payment("404", None, "shop", ctx),
        void_payment("404", "shop", ctx),
        refund_payment("404", None, "shop", ctx),
    ):
        with pytest.raises(NotFound):
            await step


async def test_a_receivable_being_charged_is_not_charged_again_meanwhile(ctx, gateway, records):
    assert await records.hold(ReceivableKind.INVOICE, "INV-1")
    with pytest.raises(Busy, match="in progress"):
        await charge_receivable(charge(), ctx)
    assert gateway.calls == []
    await records.release(ReceivableKind.INVOICE, "INV-1")
    await charge_receivable(charge(), ctx)
    assert records.held == set()  # released after the charge


async def test_the_hold_is_released_when_the_charge_fails(gateway, erp):
    records = FakeChargeRecords()
    failing = FakeCardGateway(fail_next=[TransientError("PayTrace unreachable")])
    ctx = ChargeContext(
        gateway=failing, receivables=erp, records=records, now=WHEN, requests=charge_requests(erp)
    )
    with pytest.raises(TransientError):
        await charge_receivable(charge(), ctx)
    assert records.held == set()
