"""The connector's $metadata reader on the sandbox's CSDL."""

from __future__ import annotations

APPENDIX_SETS = {
    "CustomersV3",
    "SalesOrderHeadersV2",
    "SalesOrderLines",
    "SalesInvoiceHeadersV2",
    "SalesInvoiceLines",
    "CustomerPaymentJournalHeaders",
    "CustomerPaymentJournalLines",
    "PaymentJournalLineSettledInvoices",
    "CustomerPaymentJournalFees",
    "LedgerJournalHeaders",
    "LedgerJournalLines",
    "CustomerPaymentMethods",
    "BusinessEventsCatalogs",
    "BusinessEventsEndpoints",
}


async def test_metadata_lists_the_entity_sets_with_keys(client):
    metadata = await client.metadata()

    assert metadata.namespace == "Microsoft.Dynamics.DataEntities"
    assert metadata.container == "Resources"
    assert set(metadata.entity_sets) >= APPENDIX_SETS
    lines = metadata.entity_set("CustomerPaymentJournalLines")
    assert lines.entity_type == "Microsoft.Dynamics.DataEntities.CustomerPaymentJournalLine"
    assert lines.keys == ("dataAreaId", "JournalBatchNumber", "LineNumber")
    assert len(lines.properties) == 69
    assert metadata.entity_set("PaymentJournalLineSettledInvoices").keys[0] == "JournalLineCompany"


async def test_metadata_types_nullability_enums_and_annotations(client):
    customers = (await client.metadata()).entity_set("CustomersV3")

    extension_fields = (
        "PayTraceCustomerId",
        "PayTraceAutoPay",
        "PayTraceSync",
        "PayTraceSubscriptionStatus",
        "PayTraceCollectionStatus",
        "ProjectCode",
    )
    assert len(customers.properties) == 305 + len(extension_fields)
    assert all(customers.property(name) for name in extension_fields)
    assert customers.property("CreditLimit").type == "Edm.Decimal"
    assert customers.property("CreditLimit").nullable is False
    assert customers.property("OnHoldStatus").enum_members[:3] == ("No", "Invoice", "All")
    assert customers.property("CustomerGroupId").required
    headers = (await client.metadata()).entity_set("CustomerPaymentJournalHeaders")
    assert headers.property("JournalBatchNumber").editable_on_create is False
    assert headers.navigations["CustomerPaymentJournalLineHeaderEntity"].startswith("Collection(")


async def test_extension_fields_appear_in_metadata(client):
    metadata = await client.metadata()

    assert metadata.entity_set("CustomersV3").property("PayTraceCustomerId").type == "Edm.String"
    assert metadata.entity_set("SalesOrderHeadersV2").property("PaymentStatus").nullable
