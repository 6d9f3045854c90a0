"""The request of a charge, mapped by the charge request template over the invoice, order,
customer and the ERP rows it needs; with fakes (the ERP rows are D365-shaped JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from payledger.config import PayTraceSettings, Settings
from payledger.domain import Address, Customer, Money, Order, OrderLine
from payledger.domain.charges import ProtectCard, Receivable, ReceivableKind, StoredCard
from payledger.domain.errors import TransientError
from payledger.domain.shop_orders import ShopOrder
from payledger.flows.charge_payment import Charge, ChargeContext, charge_receivable
from payledger.flows.charge_request import ChargeRequestRefused
from payledger.mapping import (
    StaticCatalog,
    load_template,
    paytrace_entities,
    validate_template,
)
from tests.fakes_charging import (
    WHEN,
    FakeCardGateway,
    FakeChargeRecords,
    FakeReceivables,
    charge_requests,
)

CARD = StoredCard("vault-7")
CUSTOMER_ROW = {
    "dataAreaId": "usmf",
    "CustomerAccount": "US-027",
    "OrganizationName": "Harbor Supplies Inc",
    "AddressStreet": "12 Harbor Way\nBuilding C",
    "AddressCity": "Tacoma",
    "AddressState": "WA",
    "AddressZipCode": "98402",
    "AddressCountryRegionISOCode": "us",
    "PrimaryContactEmail": "ap@harbor.example",
}
ORDER_ROW = {
    "dataAreaId": "usmf",
    "SalesOrderNumber": "001262",
    "CustomersOrderReference": "WEB-5521",
    "ProjectCode": "PRJ-7",
}


def invoice(number: str = "CIV-900", total: str = "84.10", **rows: Any) -> Receivable:
    return Receivable(
        ReceivableKind.INVOICE,
        number,
        "US-027",
        Money.of(total),
        sales_order_number="001262",
        erp_rows=rows,
    )


def erp_with_customer() -> FakeReceivables:
    erp = FakeReceivables()
    erp.rows[("d365_customer", "US-027")] = CUSTOMER_ROW
    return erp


async def test_an_invoice_request_maps_the_invoice_and_the_erp_rows_each_read_once():
    erp = erp_with_customer()
    requests = charge_requests(erp)

    request = await requests.for_receivable(
        invoice(d365_invoice={"InvoiceNumber": "CIV-900"}, d365_order=ORDER_ROW),
        Money.of("60.10"),
        CARD,
    )

    assert request == {
        "amount": Decimal("60.10"),
        "invoice_id": "CIV-900",
        "customer_reference_id": "WEB-5521",
        "description": "D365 USMF invoice CIV-900",
        "email": "ap@harbor.example",
        "billing_address": {
            "name": "Harbor Supplies Inc",
            "street_address": "12 Harbor Way",
            "street_address2": "Building C",
            "city": "Tacoma",
            "state": "WA",
            "zip": "98402",
            "country": "US",
        },
        "discretionary_data": {"D365 Order": "001262", "D365 Customer": "US-027"},
    }
    assert erp.rows_read == [("d365_customer", "US-027")]  # the order came with the invoice


async def test_without_any_erp_row_the_request_keeps_what_the_invoice_says():
    erp = FakeReceivables()  # no customer or order row exists

    request = await charge_requests(erp).for_receivable(invoice(), Money.of("84.10"), CARD)

    assert request == {
        "amount": Decimal("84.10"),
        "invoice_id": "CIV-900",
        "customer_reference_id": "001262",
        "description": "D365 USMF invoice CIV-900",
        "discretionary_data": {"D365 Order": "001262", "D365 Customer": "US-027"},
    }
    assert erp.rows_read == [("d365_customer", "US-027"), ("d365_order", "001262")]


async def test_a_sales_order_is_charged_under_its_own_number():
    order = Receivable(
        ReceivableKind.SALES_ORDER,
        "001262",
        "US-027",
        Money.of("250.00"),
        sales_order_number="001262",
        erp_rows={"d365_order": ORDER_ROW},
    )

    request = await charge_requests(FakeReceivables()).for_receivable(
        order, Money.of("250.00"), CARD
    )

    assert request["invoice_id"] == "001262"
    assert request["description"] == "D365 USMF order 001262"
    assert request["customer_reference_id"] == "WEB-5521"


async def test_references_longer_than_paytrace_takes_are_cut_to_50_characters():
    long_reference = "WEB-" + "7" * 60
    request = await charge_requests(FakeReceivables()).for_receivable(
        invoice(d365_order={**ORDER_ROW, "CustomersOrderReference": long_reference}),
        Money.of("10.00"),
        CARD,
    )

    assert request["customer_reference_id"] == long_reference[:50]


def shop_order(account: str = "US-027") -> ShopOrder:
    buyer = Customer(
        "Ada Lovelace",
        account=account,
        email="ada@example.com",
        billing_address=Address(("12 St James's Sq",), "London", "", "SW1Y 4JH", "gb"),
    )
    lines = (OrderLine("D0001", 2, Money.of("20.00"), "MidRangeSpeaker2"),)
    order = Order("WEB-1001", buyer, lines, "USD")
    return ShopOrder(order, Money.of("3.20"), Money.of("5.00"), Money.of("48.20"))


async def test_a_shop_order_request_carries_the_shop_s_data_and_the_erp_customer_it_names():
    erp = erp_with_customer()

    request = await charge_requests(erp).for_shop_order(
        shop_order(), ProtectCard("tok", "key"), wait=1
    )

    assert request == {
        "amount": Decimal("48.20"),
        "invoice_id": "WEB-1001",
        "customer_reference_id": "WEB-1001",
        "description": "Shop order WEB-1001",
        "email": "ada@example.com",
        "tax_amount": Decimal("3.20"),
        "billing_address": {
            "name": "Ada Lovelace",
            "street_address": "12 St James's Sq",
            "city": "London",
            "state": "WA",  # the shop gave none: the ERP customer's
            "zip": "SW1Y 4JH",
            "country": "GB",
        },
        "discretionary_data": {"D365 Customer": "US-027"},
    }
    assert erp.rows_read == [("d365_customer", "US-027")]


@pytest.mark.parametrize(
    "erp",
    [FakeReceivables(rows_fail=TransientError("D365 is down")), FakeReceivables(rows_delay=5)],
    ids=["erp-down", "erp-slow"],
)
async def test_a_shop_order_is_charged_without_the_erp_rows_when_the_erp_cannot_answer(erp):
    request = await charge_requests(erp).for_shop_order(shop_order(), CARD, wait=0.05)

    assert request["discretionary_data"] == {"D365 Customer": "US-027"}  # from the order
    assert "state" not in request["billing_address"]


def project_template(project_field: str = "discretionary_data.Project") -> Any:
    text = (
        "template: paytrace_transaction_request\n"
        "target: {system: paytrace, entity: transaction_request}\n"
        "needs: [d365_order]\n"
        "fields:\n"
        "  amount: {path: context.amount}\n"
        "  invoice_id: {path: invoice.number}\n"
        f"  {project_field}: {{path: enrich.d365_order.ProjectCode, optional: true}}\n"
    )
    return load_template(text)


PROJECT_SETTINGS = Settings(
    paytrace=PayTraceSettings(discretionary_titles=["D365 Order", "D365 Customer", "Project"])
)


async def test_an_edited_template_decides_what_is_sent():
    requests = charge_requests(FakeReceivables(), project_template(), PROJECT_SETTINGS)

    request = await requests.for_receivable(invoice(d365_order=ORDER_ROW), Money.of("84.10"), CARD)

    assert request == {
        "amount": Decimal("84.10"),
        "invoice_id": "CIV-900",
        "discretionary_data": {"Project": "PRJ-7"},
    }


def ctx(erp: FakeReceivables, gateway: FakeCardGateway, **template: Any) -> ChargeContext:
    return ChargeContext(
        gateway=gateway,
        receivables=erp,
        records=FakeChargeRecords(),
        now=WHEN,
        requests=charge_requests(erp, **template),
    )


async def test_card_data_in_an_erp_field_is_never_sent_to_the_gateway():
    erp, gateway = FakeReceivables(), FakeCardGateway()
    leaky = {**ORDER_ROW, "ProjectCode": "4111 1111 1111 1111"}
    erp.invoice_of("CIV-900", "84.10", account="US-027", erp_rows={"d365_order": leaky})
    charging = ctx(erp, gateway, template=project_template(), settings=PROJECT_SETTINGS)

    with pytest.raises(ChargeRequestRefused) as refused:
        await charge_receivable(Charge(ReceivableKind.INVOICE, "CIV-900", CARD, "shop"), charging)

    assert gateway.calls == [] and gateway.requests == []
    assert "request.discretionary_data.Project" in str(refused.value)
    assert "1111" not in str(refused.value)


async def test_a_template_that_maps_another_amount_than_the_one_charged_sends_nothing():
    erp, gateway = FakeReceivables(), FakeCardGateway()
    erp.invoice_of("CIV-900", "84.10", account="US-027")
    text = (
        "template: paytrace_transaction_request\n"
        "target: {system: paytrace, entity: transaction_request}\n"
        "fields:\n"
        "  amount: {const: 1.00}\n"
        "  invoice_id: {path: invoice.number}\n"
    )
    charging = ctx(erp, gateway, template=load_template(text))

    with pytest.raises(ChargeRequestRefused, match=r"maps the amount to 1.00, but 84.10 USD"):
        await charge_receivable(Charge(ReceivableKind.INVOICE, "CIV-900", CARD, "shop"), charging)

    assert gateway.calls == []


async def test_the_charge_sends_the_mapped_request_to_the_gateway():
    erp, gateway = erp_with_customer(), FakeCardGateway()
    erp.invoice_of("CIV-900", "84.10", account="US-027")

    await charge_receivable(
        Charge(ReceivableKind.INVOICE, "CIV-900", CARD, "shop", amount=Decimal("20.00")),
        ctx(erp, gateway),
    )

    [request] = gateway.requests
    assert (request["amount"], request["invoice_id"]) == (Decimal("20.00"), "CIV-900")
    assert request["discretionary_data"] == {"D365 Customer": "US-027"}


def test_a_template_cannot_choose_the_payment_method():
    text = (
        "template: mine\n"
        "target: {system: paytrace, entity: transaction_request}\n"
        "fields:\n"
        "  amount: {path: context.amount}\n"
        "  customer_id: {path: customer.gateway_customer_id}\n"
    )
    catalog = StaticCatalog.of(paytrace_entities(["D365 Order"]))

    [issue] = validate_template(load_template(text), catalog, {})

    assert (issue.field, issue.reason) == (
        "customer_id",
        "transaction_request has no property customer_id",
    )
