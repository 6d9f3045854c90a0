"""Customers, sales orders and order lines: defaults, lookups and totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.rules import (
    EntityRules,
    Row,
    WriteContext,
    delete_where,
    lookup_failed,
)
from payledger.sandbox.d365.values import MAX_INSTANT

COUNTRY_ISO = {"USA": "US", "CAN": "CA", "MEX": "MX", "GBR": "GB", "DEU": "DE", "FRA": "FR"}


def customer_name(customer: dict[str, Any]) -> str:
    organization: str = customer.get("OrganizationName", "")
    if organization:
        return organization
    parts = (customer.get(p, "") for p in ("PersonFirstName", "PersonLastName"))
    return " ".join(p for p in parts if p)


def find_customer(ctx: WriteContext, company: str, account: str) -> dict[str, Any] | None:
    return ctx.find("CustomersV3", dataAreaId=company, CustomerAccount=account)


class CustomerRules(EntityRules):
    number_fields = {"CustomerAccount": ("Customer", "C{n:06d}")}

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        now = ctx.state.clock.now()
        party = ctx.store.next_number("Party")
        values.setdefault("PartyNumber", f"{party:09d}")
        values.setdefault("PartyType", "Organization")
        values.setdefault("NameAlias", customer_name(values)[:20])
        values.setdefault("AddressValidFrom", now)
        values.setdefault("AddressValidTo", MAX_INSTANT)
        country = values.get("AddressCountryRegionId", "")
        if country and not values.get("AddressCountryRegionISOCode"):
            values["AddressCountryRegionISOCode"] = COUNTRY_ISO.get(country.upper(), "")
        if values.get("AddressStreet") and not values.get("FullPrimaryAddress"):
            values["FullPrimaryAddress"] = _full_address(values)
        self._validate(ctx, entity, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        self._validate(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        account = values["CustomerAccount"]
        if ctx.find(
            "SalesInvoiceHeadersV2",
            dataAreaId=values["dataAreaId"],
            InvoiceCustomerAccountNumber=account,
        ):
            raise ctx.fail(
                entity,
                f"Error: Customer {account} has transactions and cannot be deleted.",
            )

    def _validate(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        ref = ctx.state.reference
        checks = (
            ("CustomerGroupId", ref.customer_groups, "Customer group", "Customer groups"),
            ("SalesCurrencyCode", ref.currencies, "Currency", "Currencies"),
            ("PaymentTerms", ref.payment_terms, "Terms of payment", "Terms of payment"),
        )
        for field, known, label, table in checks:
            value = values.get(field)
            if value and value.casefold() not in {k.casefold() for k in known}:
                raise ctx.fail(entity, *lookup_failed(entity, field, value, label, table))
        method = values.get("PaymentMethod")
        if method and not ctx.find(
            "CustomerPaymentMethods", dataAreaId=values["dataAreaId"], Name=method
        ):
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity, "PaymentMethod", method, "Method of payment", "Methods of payment"
                ),
            )


def _full_address(values: Row) -> str:
    city_line = f"{values.get('AddressCity', '')}, {values.get('AddressState', '')} " + values.get(
        "AddressZipCode", ""
    )
    return "\n".join(
        [
            values.get("AddressStreet", ""),
            city_line.strip(),
            values.get("AddressCountryRegionId", ""),
        ]
    ).strip()


class SalesOrderRules(EntityRules):
    number_fields = {"SalesOrderNumber": ("SalesOrder", "{n:06d}")}

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        company = values["dataAreaId"]
        account = values.get("OrderingCustomerAccountNumber", "")
        customer = find_customer(ctx, company, account) if account else None
        if customer is None:
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity,
                    "OrderingCustomerAccountNumber",
                    account,
                    "Customer account",
                    "Customers",
                ),
            )
        invoice_account = customer.get("InvoiceAccount") or customer["CustomerAccount"]
        values.setdefault("InvoiceCustomerAccountNumber", invoice_account)
        values.setdefault("CurrencyCode", customer.get("SalesCurrencyCode", ""))
        values.setdefault("PaymentTermsName", customer.get("PaymentTerms", ""))
        values.setdefault("CustomerPaymentMethodName", customer.get("PaymentMethod", ""))
        values.setdefault("SalesOrderStatus", "Backorder")
        values.setdefault("SalesOrderProcessingStatus", "Active")
        values.setdefault("OrderCreationDateTime", ctx.state.clock.now())
        values.setdefault("SalesOrderName", customer_name(customer))
        self._validate(ctx, entity, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        self._validate(ctx, entity, new)

    def check_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        if values.get("SalesOrderStatus") == "Invoiced":
            raise ctx.fail(
                entity,
                f"Error: Sales order {values['SalesOrderNumber']} is invoiced and cannot be "
                "deleted.",
            )

    def after_delete(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        delete_where(
            ctx,
            "SalesOrderLines",
            dataAreaId=values["dataAreaId"],
            SalesOrderNumber=values["SalesOrderNumber"],
        )

    def computed(self, ctx: WriteContext, entity: EntityType, values: Row) -> dict[str, Any]:
        lines = [
            line
            for line in ctx.rows("SalesOrderLines")
            if line.get("SalesOrderNumber", "").casefold()
            == values.get("SalesOrderNumber", "").casefold()
            and line.get("dataAreaId") == values.get("dataAreaId")
        ]
        if not lines:
            return {}
        return {"OrderTotalAmount": sum((line["LineAmount"] for line in lines), Decimal(0))}

    def _validate(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        company = values["dataAreaId"]
        invoice_account = values.get("InvoiceCustomerAccountNumber")
        if invoice_account and not find_customer(ctx, company, invoice_account):
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity,
                    "InvoiceCustomerAccountNumber",
                    invoice_account,
                    "Invoice account",
                    "Customers",
                ),
            )
        currency = values.get("CurrencyCode", "")
        if currency.upper() not in ctx.state.reference.currencies:
            raise ctx.fail(
                entity, *lookup_failed(entity, "CurrencyCode", currency, "Currency", "Currencies")
            )


class SalesOrderLineRules(EntityRules):
    number_fields = {"InventoryLotId": ("InventoryLot", "{n:06d}{company}")}

    def _open_order(self, ctx: WriteContext, entity: EntityType, values: Row) -> Row:
        company = values["dataAreaId"]
        order_number = values.get("SalesOrderNumber", "")
        header = ctx.find("SalesOrderHeadersV2", dataAreaId=company, SalesOrderNumber=order_number)
        if header is None:
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity, "SalesOrderNumber", order_number, "Sales order", "Sales orders"
                ),
            )
        if header.get("SalesOrderStatus") == "Invoiced":
            raise ctx.fail(entity, f"Error: Sales order {order_number} is already invoiced.")
        return header

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        header = self._open_order(ctx, entity, values)
        company, order_number = values["dataAreaId"], header["SalesOrderNumber"]
        item = ctx.state.reference.items.get(values.get("ItemNumber", "").upper())
        if item is None:
            raise ctx.fail(
                entity,
                *lookup_failed(
                    entity,
                    "ItemNumber",
                    values.get("ItemNumber", ""),
                    "Item number",
                    "Released products",
                ),
            )
        siblings = [
            line
            for line in ctx.rows("SalesOrderLines")
            if line.get("dataAreaId") == company
            and line.get("SalesOrderNumber", "").casefold() == order_number.casefold()
        ]
        sequence = len(siblings) + 1
        values.setdefault("LineNumber", Decimal(sequence))
        values.setdefault("LineCreationSequenceNumber", sequence)
        values.setdefault("OrderedSalesQuantity", Decimal(1))
        values.setdefault("SalesPrice", item.price)
        values.setdefault("SalesPriceQuantity", Decimal(1))
        values.setdefault("SalesUnitSymbol", item.unit)
        values.setdefault("LineDescription", item.name)
        values.setdefault("CurrencyCode", header.get("CurrencyCode", ""))
        values.setdefault("SalesOrderLineStatus", "Backorder")
        values["LineAmount"] = _line_amount(values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        new["LineAmount"] = _line_amount(new)


def _line_amount(values: Row) -> Decimal:
    quantity: Decimal = values.get("OrderedSalesQuantity", Decimal(0))
    price: Decimal = values.get("SalesPrice", Decimal(0))
    discount: Decimal = values.get("LineDiscountAmount", Decimal(0))
    return quantity * price - discount
