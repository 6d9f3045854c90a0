"""Order to cash: charge once, create in the ERP once, never wait long for the ERP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from payledger.config import Settings
from payledger.domain import Address, Customer, Money, Order, OrderLine
from payledger.domain.charges import ProtectCard, StoredCard
from payledger.domain.clock import ManualClock
from payledger.domain.erp_keys import InvalidErpValue
from payledger.domain.errors import RejectedError, TransientError
from payledger.domain.shop_orders import OrderTotalsMismatch, ShopOrder, ShopOrderStatus
from payledger.flows.charge_request import ChargeRequestRefused
from payledger.flows.order_to_cash import (
    PARKED_ALERT,
    OrderBeingCharged,
    OrderIdTaken,
    OrderRules,
    OrderTemplates,
    complete_order,
    give_up_order,
    place_order,
)
from payledger.mapping import compile_template, default_templates
from payledger.templates import template_settings
from tests.fakes_charging import FakeReceivables, charge_requests
from tests.fakes_orders import FakeAlerts, FakeOrderGateway, FakeSalesDesk, FakeShopOrderStore

NOW = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
CARD = ProtectCard("hpf-token", "enc-key")
RULES = OrderRules(erp_timeout=0.5, grace=5)


@pytest.fixture(scope="module")
def templates() -> OrderTemplates:
    values, defaults = template_settings(Settings()), default_templates()
    return OrderTemplates(
        customer=compile_template(defaults["d365_customer"], values),
        header=compile_template(defaults["d365_sales_order_header"], values),
        line=compile_template(defaults["d365_sales_order_line"], values),
    )


def shop_order(reference: str = "WEB-1001", *, total: str = "57.00", **customer: Any) -> ShopOrder:
    buyer = Customer(
        name=customer.pop("name", "Ada Lovelace"),
        email=customer.pop("email", "ada@example.com"),
        billing_address=Address(("12 St James's Sq",), "London", "", "SW1Y 4JH", "GB"),
        **customer,
    )
    lines = (
        OrderLine("D0001", 2, Money.of("20.00"), "MidRangeSpeaker2"),
        OrderLine("T0001", 1, Money.of("10.00")),
    )
    order = Order(reference, buyer, lines, "USD")
    tax, shipping = Money.of("4.00"), Money.of(Decimal(total) - 54)
    return ShopOrder(order, tax, shipping, Money.of(total))


class Parts:
    def __init__(self, templates: OrderTemplates, **desk: Any) -> None:
        self.templates = templates
        self.gateway = FakeOrderGateway()
        self.desk = FakeSalesDesk(**desk)
        self.store = FakeShopOrderStore()
        self.clock = ManualClock(NOW)
        self.alerts = FakeAlerts()
        self.erp = FakeReceivables()
        self.requests = charge_requests(self.erp)

    async def place(
        self, order: ShopOrder, card=CARD, rules: OrderRules = RULES, client: str = "shop"
    ):
        return await place_order(
            order, card, client=client, rules=rules, templates=self.templates,
            gateway=self.gateway, desk=self.desk, store=self.store, clock=self.clock,
            alerts=self.alerts, requests=self.requests,
        )  # fmt: skip

    async def complete(self, reference: str, rules: OrderRules = RULES):
        return await complete_order(
            reference, rules=rules, templates=self.templates, desk=self.desk, store=self.store,
            alerts=self.alerts,
        )  # fmt: skip


def test_an_order_whose_total_is_not_lines_plus_tax_and_shipping_is_refused():
    with pytest.raises(OrderTotalsMismatch, match=r"total 50.00 is not lines 50.00 \+ tax 4.00"):
        ShopOrder(shop_order().order, Money.of("4.00"), Money.of("3.00"), Money.of("50.00"))


async def test_an_approved_order_is_created_in_the_erp_before_the_answer(templates):
    parts = Parts(templates)

    outcome = await parts.place(shop_order())

    record = outcome.record
    assert record.status is ShopOrderStatus.COMPLETED
    assert record.erp is not None and record.erp.payment_status == "Paid"
    [customer] = parts.desk.customers.values()
    assert (customer["PersonFirstName"], customer["PersonLastName"]) == ("Ada", "Lovelace")
    assert customer["PrimaryContactEmail"] == "ada@example.com"
    header = parts.desk.orders["WEB-1001"]
    assert header["OrderingCustomerAccountNumber"] == record.erp.customer_account
    assert header["PaymentStatus"] == "Paid" and header["PaymentAuthId"] == "TAS445"
    assert header["CustomerRequisitionNumber"] == record.payment.gateway_txn_id
    lines = parts.desk.lines[record.erp.sales_order_number]
    assert [(line["LineNumber"], line["ItemNumber"], line["OrderedSalesQuantity"],
             line["SalesPrice"]) for line in lines] == [
        (Decimal(1), "D0001", Decimal(2), Decimal("20.00")),
        (Decimal(2), "T0001", Decimal(1), Decimal("10.00")),
    ]  # fmt: skip
    [event_id] = parts.store.events
    assert parts.store.event_fields[event_id] == {
        "D365 Customer": record.erp.customer_account,
        "D365 Order": record.erp.sales_order_number,
    }
    assert parts.store.jobs_done_inline == ["WEB-1001"]


async def test_the_queued_job_is_due_only_after_the_requests_own_attempt(templates):
    parts = Parts(templates)
    await parts.place(shop_order())
    assert parts.store.jobs["WEB-1001"] == NOW + timedelta(seconds=RULES.erp_timeout + 5)


async def test_an_authorization_leaves_the_order_authorized(templates):
    parts = Parts(templates)
    outcome = await parts.place(shop_order(), rules=OrderRules(capture=False, erp_timeout=1))
    assert parts.gateway.charges[0][2] is False
    assert outcome.record.erp.payment_status == "Authorized"
    assert parts.desk.orders["WEB-1001"]["PaymentStatus"] == "Authorized"


async def test_a_decline_creates_nothing_in_the_erp_and_says_why(templates):
    parts = Parts(templates)

    outcome = await parts.place(shop_order(total="1.12", name="Ada Lovelace"))

    assert outcome.record.status is ShopOrderStatus.DECLINED
    assert outcome.record.payment.message == "DECLINE - Do not honor"
    assert parts.desk.calls == [] and parts.store.events == {} and parts.store.jobs == {}


async def test_a_declined_order_may_be_paid_with_another_card(templates):
    parts = Parts(templates)
    await parts.place(shop_order(total="1.12"))
    outcome = await parts.place(shop_order(total="57.00"), card=StoredCard("cust-0002"))
    assert outcome.record.status is ShopOrderStatus.COMPLETED
    assert len(parts.gateway.charges) == 2


async def test_with_hold_on_decline_the_order_is_created_declined(templates):
    parts = Parts(templates)
    rules = OrderRules(hold_on_decline=True, erp_timeout=1)

    outcome = await parts.place(shop_order(total="1.12"), rules=rules)

    assert outcome.record.status is ShopOrderStatus.COMPLETED
    assert outcome.record.erp.payment_status == "Declined"
    header = parts.desk.orders["WEB-1001"]
    assert header["PaymentStatus"] == "Declined"
    assert header["PaymentMessage"] == "DECLINE - Do not honor"
    assert parts.store.events == {}  # a decline posts nothing to the ledger


async def test_when_the_erp_is_down_the_order_is_pending_and_the_job_completes_it(templates):
    parts = Parts(templates, fail_next=[TransientError("D365 503")])

    outcome = await parts.place(shop_order())

    assert outcome.record.status is ShopOrderStatus.PENDING
    assert parts.store.jobs_done_inline == []
    done = await parts.complete("WEB-1001")
    assert done.status is ShopOrderStatus.COMPLETED
    assert list(parts.desk.orders) == ["WEB-1001"]


async def test_when_the_erp_is_slow_the_answer_does_not_wait(templates):
    parts = Parts(templates, delay=0.2)
    outcome = await parts.place(shop_order(), rules=OrderRules(erp_timeout=0.05))
    assert outcome.record.status is ShopOrderStatus.PENDING


async def test_an_order_charged_before_is_not_charged_again(templates):
    parts = Parts(templates)
    first = await parts.place(shop_order())

    again = await parts.place(shop_order())

    assert again.known_before and again.record == first.record
    assert len(parts.gateway.charges) == 1


async def test_an_order_being_charged_is_refused_meanwhile(templates):
    parts = Parts(templates)
    await parts.store.claim(shop_order(), client="shop")
    parts.store.claimed_at["WEB-1001"] = NOW - timedelta(seconds=30)
    with pytest.raises(OrderBeingCharged):
        await parts.place(shop_order())
    assert parts.gateway.charges == []


async def test_a_charge_cut_off_long_ago_is_found_at_the_gateway_not_made_again(templates):
    parts = Parts(templates)
    await parts.gateway.charge_order(shop_order(), CARD, capture=True, request={})  # then died
    await parts.store.claim(shop_order(), client="shop")
    parts.store.claimed_at["WEB-1001"] = NOW - timedelta(seconds=RULES.stale_charge_after + 1)

    outcome = await parts.place(shop_order())

    assert parts.gateway.lookups == ["WEB-1001"]
    assert len(parts.gateway.charges) == 1
    assert outcome.record.status is ShopOrderStatus.COMPLETED
    assert outcome.record.payment == parts.gateway.made["WEB-1001"].payment


async def test_a_charge_cut_off_before_it_reached_the_gateway_is_made_once(templates):
    parts = Parts(templates)
    await parts.store.claim(shop_order(), client="shop")
    parts.store.claimed_at["WEB-1001"] = NOW - timedelta(seconds=RULES.stale_charge_after + 1)

    outcome = await parts.place(shop_order())

    assert len(parts.gateway.charges) == 1
    assert outcome.record.status is ShopOrderStatus.COMPLETED


async def test_a_refused_charge_frees_the_order_id(templates):
    parts = Parts(templates)
    parts.gateway = FakeOrderGateway(fail_next=[RejectedError("Customer ID, x, was not found")])
    with pytest.raises(RejectedError):
        await parts.place(shop_order(), card=StoredCard("x"))
    assert await parts.store.get("WEB-1001") is None


async def test_card_data_in_the_erp_customer_the_order_names_is_not_sent_and_frees_the_id(
    templates,
):
    parts = Parts(templates)
    parts.erp.rows[("d365_customer", "US-027")] = {"PrimaryContactEmail": "4111111111111111"}

    with pytest.raises(ChargeRequestRefused, match=r"request\.email would carry"):
        await parts.place(shop_order(account="US-027", email=""))

    assert parts.gateway.charges == []
    assert await parts.store.get("WEB-1001") is None


async def test_a_vault_customer_is_found_by_its_token_and_an_email_match_gets_the_token(
    templates,
):
    parts = Parts(templates)
    parts.desk.customers["US-007"] = {
        "CustomerAccount": "US-007", "PrimaryContactEmail": "ada@example.com",
    }  # fmt: skip

    outcome = await parts.place(shop_order(), card=StoredCard("cust-0042"))

    assert outcome.record.erp.customer_account == "US-007"
    assert parts.desk.customers["US-007"]["PayTraceCustomerId"] == "cust-0042"
    assert len(parts.desk.customers) == 1


async def test_a_retried_job_adds_only_the_lines_still_missing(templates):
    parts = Parts(templates, fail_next=[TransientError("down")])
    await parts.place(shop_order())
    await parts.complete("WEB-1001")
    number = parts.desk.orders["WEB-1001"]["SalesOrderNumber"]
    del parts.desk.lines[number][1]  # as if the job died after writing the first line
    await parts.store.failed(parts.store.records["WEB-1001"], "died")

    await parts.complete("WEB-1001")

    assert [line["ItemNumber"] for line in parts.desk.lines[number]] == ["D0001", "T0001"]
    assert list(parts.desk.orders) == ["WEB-1001"]


async def test_an_account_the_erp_does_not_know_fails_the_order_for_a_human(templates):
    parts = Parts(templates)
    outcome = await parts.place(shop_order(account="US-404"))
    assert outcome.record.status is ShopOrderStatus.FAILED
    assert "US-404 does not exist" in outcome.record.error
    assert parts.store.records["WEB-1001"].status is ShopOrderStatus.FAILED


async def test_an_order_id_another_client_used_is_refused_and_nothing_is_charged(templates):
    parts = Parts(templates)
    first = await parts.place(shop_order(), client="shop")

    with pytest.raises(OrderIdTaken, match="another API client") as refused:
        await parts.place(shop_order(total="99.00", name="Mallory"), client="other-shop")

    assert "Ada" not in str(refused.value) and "57.00" not in str(refused.value)
    assert len(parts.gateway.charges) == 1
    assert parts.store.records["WEB-1001"] == first.record
    assert first.record.client == "shop"


async def test_another_clients_declined_order_id_is_not_taken_over(templates):
    parts = Parts(templates)
    declined = await parts.place(shop_order(total="1.12"), client="shop")
    assert declined.record.status is ShopOrderStatus.DECLINED

    with pytest.raises(OrderIdTaken):
        await parts.place(shop_order(), client="other-shop")

    assert len(parts.gateway.charges) == 1
    assert parts.store.records["WEB-1001"].status is ShopOrderStatus.DECLINED


@pytest.mark.parametrize(
    ("customer", "card", "field"),
    [
        ({"account": "US-00*"}, CARD, "customer.account"),
        ({"account": "O'Brien"}, CARD, "customer.account"),
        ({"account": "US 001"}, CARD, "customer.account"),
        ({"email": "*@example.com"}, CARD, "customer.email"),
        ({}, StoredCard("cust-*"), "payment.vault_customer_id"),
    ],
)
async def test_a_value_that_could_match_another_erp_record_is_refused_before_the_charge(
    templates, customer, card, field
):
    parts = Parts(templates)

    with pytest.raises(InvalidErpValue) as refused:
        await parts.place(shop_order(**customer), card=card)

    assert refused.value.field == field and field in str(refused.value)
    assert parts.gateway.charges == []
    assert parts.store.records == {}
    assert parts.desk.calls == []


async def test_quotes_in_an_email_are_no_reason_to_refuse_an_order(templates):
    parts = Parts(templates)
    parts.desk.customers["US-009"] = {
        "CustomerAccount": "US-009", "PrimaryContactEmail": "o'brien@example.com",
    }  # fmt: skip

    outcome = await parts.place(shop_order(email="o'brien@example.com"))

    assert outcome.record.erp.customer_account == "US-009"


async def test_an_order_the_erp_refuses_is_parked_with_an_alert(templates):
    parts = Parts(templates)

    outcome = await parts.place(shop_order(account="US-404"))

    assert outcome.record.status is ShopOrderStatus.FAILED
    [(key, _title, text, severity, facts)] = parts.alerts.sent
    assert key == PARKED_ALERT and severity == "critical"
    assert "WEB-1001 was charged" in text and "US-404 does not exist" in text
    assert facts["transaction"] == outcome.record.payment.gateway_txn_id
    assert facts["client"] == "shop"


async def test_the_job_failing_again_on_a_parked_order_alerts_no_more(templates):
    parts = Parts(templates)
    await parts.place(shop_order(account="US-404"))

    with pytest.raises(Exception, match="US-404"):
        await parts.complete("WEB-1001")

    assert parts.alerts.keys() == [PARKED_ALERT]
    assert parts.store.records["WEB-1001"].status is ShopOrderStatus.FAILED


async def test_an_order_whose_job_gives_up_is_parked_with_the_reason_and_an_alert(templates):
    parts = Parts(templates, fail_next=[TransientError("D365 503")] * 3)
    pending = await parts.place(shop_order())
    assert pending.record.status is ShopOrderStatus.PENDING

    await give_up_order(
        "WEB-1001", "gave up after 8 attempt(s): D365 503", store=parts.store, alerts=parts.alerts
    )

    parked = parts.store.records["WEB-1001"]
    assert parked.status is ShopOrderStatus.FAILED and "D365 503" in parked.error
    assert parts.alerts.keys() == [PARKED_ALERT]


async def test_giving_up_on_a_completed_order_changes_nothing(templates):
    parts = Parts(templates)
    done = await parts.place(shop_order())

    await give_up_order("WEB-1001", "late", store=parts.store, alerts=parts.alerts)

    assert parts.store.records["WEB-1001"] == done.record
    assert parts.alerts.sent == []
