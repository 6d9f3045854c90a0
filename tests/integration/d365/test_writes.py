"""Creates, updates with ETags, deletes, validation errors and journal rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.d365 import D365NotFound, D365PreconditionFailed, escape_display_value
from payledger.adapters.d365.schemas import D365Customer
from payledger.adapters.d365.translate import customer_from_d365, customer_to_d365
from payledger.domain import Customer
from payledger.domain.errors import RejectedError

PAYMENT_LINE = {
    "dataAreaId": "usmf",
    "AccountType": "Cust",
    "AccountDisplayValue": escape_display_value("US-001"),
    "CurrencyCode": "USD",
    "CreditAmount": Decimal("125.50"),
    "PaymentMethodName": "CREDITCARD",
    "OffsetAccountType": "Bank",
    "OffsetAccountDisplayValue": "USMF OPER",
}


async def _journal(client) -> str:
    header = await client.create(
        "CustomerPaymentJournalHeaders", {"dataAreaId": "usmf", "JournalName": "CustPay"}
    )
    return header["JournalBatchNumber"]


async def test_create_returns_server_assigned_numbers_and_defaults(client):
    header = await client.create(
        "CustomerPaymentJournalHeaders", {"dataAreaId": "usmf", "JournalName": "CustPay"}
    )
    line = await client.create(
        "CustomerPaymentJournalLines",
        {
            **PAYMENT_LINE,
            "JournalBatchNumber": header["JournalBatchNumber"],
            "PaymentReference": "a",
        },
    )

    assert header["JournalBatchNumber"] == "00001"
    assert header["IsPosted"] == "No"
    assert header["Description"] == "Customer payments"
    assert header.etag.startswith('W/"')
    assert line["Voucher"] == "ARPM000001"
    assert line["LineNumber"] == 1
    assert line["CreditAmount"] == Decimal("125.5")
    assert line["CustomerName"] == "Contoso Retail San Diego"
    assert line["Company"] == "USMF"
    assert line["TransactionDate"].endswith("T12:00:00Z")
    assert line["AccountDisplayValue"] == "US\\-001"


async def test_update_with_if_match_and_a_stale_etag(client):
    customer = await client.get("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": "US-003"})
    key = {"dataAreaId": "usmf", "CustomerAccount": "US-003"}

    new_etag = await client.update(
        "CustomersV3", key, {"PayTraceCustomerId": "pt-77"}, etag=customer.etag
    )

    assert new_etag != customer.etag
    with pytest.raises(D365PreconditionFailed) as caught:
        await client.update("CustomersV3", key, {"PayTraceCustomerId": "pt-78"}, etag=customer.etag)
    assert caught.value.status == 412
    assert (await client.get("CustomersV3", key))["PayTraceCustomerId"] == "pt-77"
    await client.update("CustomersV3", key, {"PayTraceCustomerId": "pt-79"}, etag="*")


async def test_delete_then_the_row_is_gone(client):
    batch = await _journal(client)
    key = {"dataAreaId": "usmf", "JournalBatchNumber": batch}

    await client.delete("CustomerPaymentJournalHeaders", key)

    with pytest.raises(D365NotFound):
        await client.get("CustomerPaymentJournalHeaders", key)


async def test_duplicate_key_is_refused_with_the_infolog(client):
    with pytest.raises(RejectedError, match="The record already exists") as caught:
        await client.create(
            "CustomersV3",
            {"dataAreaId": "usmf", "CustomerAccount": "US-001", "CustomerGroupId": "30",
             "SalesCurrencyCode": "USD"},
        )  # fmt: skip
    assert caught.value.status == 500


async def test_lookup_validation_error_reads_innererror(client, control):
    body = D365Customer(
        dataAreaId="usmf", CustomerAccount="PG-1", OrganizationName="Acme", CustomerGroupId="Local",
        SalesCurrencyCode="USD",
    ).body()  # fmt: skip
    expected = (
        "Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value "
        "'Local' in field 'Customer group' is not found in the related table 'Customer groups'."
    )
    with pytest.raises(RejectedError) as caught:
        await client.create("CustomersV3", body)
    assert expected in str(caught.value)

    await control.put("/_sandbox/settings", json={"write_error_status": 400})
    with pytest.raises(RejectedError) as caught:
        await client.create("CustomersV3", body)
    assert caught.value.status == 400


async def test_required_fields_and_unknown_properties(client):
    with pytest.raises(RejectedError, match="Field 'SalesCurrencyCode' must be filled in"):
        await client.create("CustomersV3", {"CustomerAccount": "PG-2", "CustomerGroupId": "30"})
    with pytest.raises(RejectedError, match="The property 'Name' does not exist") as caught:
        await client.create("CustomersV3", {"Name": "Acme"})
    assert caught.value.status == 400


async def test_unescaped_customer_display_value_is_read_as_segments(client):
    batch = await _journal(client)
    line = {**PAYMENT_LINE, "JournalBatchNumber": batch, "AccountDisplayValue": "US-001"}

    with pytest.raises(RejectedError, match="The value 'US' in field 'Account'"):
        await client.create("CustomerPaymentJournalLines", line)


async def test_lines_need_an_existing_header(client):
    line = {**PAYMENT_LINE, "JournalBatchNumber": "99999"}

    with pytest.raises(RejectedError, match="The value '99999' in field 'Journal batch number'"):
        await client.create("CustomerPaymentJournalLines", line)


async def test_posted_journal_lines_are_immutable(client, control):
    batch = await _journal(client)
    await client.create(
        "CustomerPaymentJournalLines", {**PAYMENT_LINE, "JournalBatchNumber": batch}
    )
    posted = await control.post(
        f"/_sandbox/journals/CustomerPaymentJournalHeaders/usmf/{batch}/post"
    )
    assert posted.status_code == 200
    key = {"dataAreaId": "usmf", "JournalBatchNumber": batch, "LineNumber": 1}

    with pytest.raises(RejectedError, match=f"Journal {batch} is posted"):
        await client.update("CustomerPaymentJournalLines", key, {"TransactionText": "late edit"})
    with pytest.raises(RejectedError, match="is posted"):
        await client.delete("CustomerPaymentJournalLines", key)
    with pytest.raises(RejectedError, match="is posted"):
        await client.create(
            "CustomerPaymentJournalLines", {**PAYMENT_LINE, "JournalBatchNumber": batch}
        )


async def test_a_bound_posting_action_checks_balance(ledger, client, control):
    """Some environments expose a bound action that posts; the sandbox can emulate one."""
    await control.put("/_sandbox/settings", json={"posting_action": True})
    header = await ledger.create_general_journal("Gateway fees", "fees-2025-03-05")
    line = {
        "dataAreaId": "usmf", "JournalBatchNumber": header.JournalBatchNumber,
        "AccountType": "Ledger", "AccountDisplayValue": "618160--", "DebitAmount": Decimal("3.94"),
        "CurrencyCode": "USD",
    }  # fmt: skip
    await client.create("LedgerJournalLines", line)
    key = {"dataAreaId": "usmf", "JournalBatchNumber": header.JournalBatchNumber}

    with pytest.raises(RejectedError, match="do not balance"):
        await client.action("LedgerJournalHeaders", key, "PostJournal")
    await client.create(
        "LedgerJournalLines",
        {
            **line,
            "DebitAmount": Decimal(0),
            "CreditAmount": Decimal("3.94"),
            "AccountDisplayValue": "110180",
        },
    )
    assert await client.action("LedgerJournalHeaders", key, "PostJournal")

    posted = await client.get("LedgerJournalHeaders", key)
    assert posted["IsPosted"] == "Yes"
    assert posted["JournalTotalDebit"] == posted["JournalTotalCredit"] == Decimal("3.94")


async def test_invoices_are_read_only(client):
    with pytest.raises(RejectedError, match="read-only"):
        await client.create("SalesInvoiceHeadersV2", {"InvoiceNumber": "X"})


async def test_order_payment_status_extension_field(ledger, client):
    await ledger.set_order_payment_status("000002", "Authorized")

    order = await ledger.sales_order_by_reference("PG-ORDER-1002")

    assert order["PaymentStatus"] == "Authorized"
    assert order["SalesOrderNumber"] == "000002"


async def test_customer_round_trip_with_the_gateway_id_extension_field(ledger):
    customer = Customer(
        name="Acme Stores Ltd",
        account="PG-000123",
        gateway_customer_id="pt-cust-42",
        email="ap@acme.example",
        is_organization=True,
    )
    body = customer_to_d365(
        customer,
        company="usmf",
        customer_group="30",
        currency="USD",
        gateway_id_field=ledger.settings.customer_gateway_id_field,
    )

    created = await ledger.create_customer(body)
    read_back = await ledger.customer("PG-000123")

    assert created["PartyNumber"]
    assert read_back is not None
    back = customer_from_d365(read_back, gateway_id_field="PayTraceCustomerId")
    assert (back.name, back.gateway_customer_id, back.email) == (
        "Acme Stores Ltd",
        "pt-cust-42",
        "ap@acme.example",
    )
