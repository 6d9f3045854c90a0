"""Vendor models: the F&O entities payledger reads and writes, with F&O's own field names.

Extension (custom) fields configured per deployment are kept as extra attributes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class D365Entity(BaseModel):
    """Base of all F&O entity models: unknown and extension fields are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def body(self) -> dict[str, Any]:
        """The JSON body to send: only fields that were set (unset ones keep F&O defaults)."""
        return self.model_dump(exclude_unset=True, exclude_none=True)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls.model_validate({k: v for k, v in row.items() if not k.startswith("@odata.")})


class D365Customer(D365Entity):
    dataAreaId: str = ""
    CustomerAccount: str = ""
    OrganizationName: str = ""
    PersonFirstName: str = ""
    PersonLastName: str = ""
    PartyType: str = ""
    CustomerGroupId: str = ""
    SalesCurrencyCode: str = ""
    InvoiceAccount: str = ""
    PaymentTerms: str = ""
    PaymentMethod: str = ""
    PrimaryContactEmail: str = ""
    PrimaryContactPhone: str = ""
    AddressStreet: str = ""
    AddressCity: str = ""
    AddressState: str = ""
    AddressZipCode: str = ""
    AddressCountryRegionId: str = ""
    AddressCountryRegionISOCode: str = ""


class D365SalesOrderHeader(D365Entity):
    dataAreaId: str = ""
    SalesOrderNumber: str = ""
    OrderingCustomerAccountNumber: str = ""
    InvoiceCustomerAccountNumber: str = ""
    CurrencyCode: str = ""
    CustomersOrderReference: str = ""
    CustomerRequisitionNumber: str = ""
    SalesOrderStatus: str = ""
    OrderTotalAmount: Decimal = Decimal(0)
    RequestedShippingDate: datetime | None = None


class D365SalesOrderLine(D365Entity):
    dataAreaId: str = ""
    InventoryLotId: str = ""
    SalesOrderNumber: str = ""
    LineNumber: Decimal | None = None
    ItemNumber: str = ""
    LineDescription: str = ""
    OrderedSalesQuantity: Decimal = Decimal(0)
    SalesPrice: Decimal = Decimal(0)
    LineAmount: Decimal = Decimal(0)
    CurrencyCode: str = ""


class D365SalesInvoiceHeader(D365Entity):
    dataAreaId: str = ""
    InvoiceNumber: str = ""
    InvoiceDate: datetime | None = None
    LedgerVoucher: str = ""
    InvoiceCustomerAccountNumber: str = ""
    SalesOrderNumber: str = ""
    CustomersOrderReference: str = ""
    CurrencyCode: str = ""
    TotalInvoiceAmount: Decimal = Decimal(0)
    TotalTaxAmount: Decimal = Decimal(0)
    PaymentTermsName: str = ""


class D365PaymentJournalHeader(D365Entity):
    dataAreaId: str = ""
    JournalBatchNumber: str = ""
    JournalName: str = ""
    Description: str = ""
    IsPosted: str = ""


class D365PaymentJournalLine(D365Entity):
    dataAreaId: str = ""
    JournalBatchNumber: str = ""
    LineNumber: Decimal | None = None
    Voucher: str = ""
    AccountType: str = ""
    AccountDisplayValue: str = ""
    TransactionDate: datetime | None = None
    CurrencyCode: str = ""
    CreditAmount: Decimal = Decimal(0)
    DebitAmount: Decimal = Decimal(0)
    PaymentMethodName: str = ""
    PaymentReference: str = ""
    PaymentId: str = ""
    TransactionText: str = ""
    MarkedInvoice: str = ""
    MarkedInvoiceCompany: str = ""
    OffsetAccountType: str = ""
    OffsetAccountDisplayValue: str = ""
    IsPrepayment: str = ""


class D365PaymentFee(D365Entity):
    dataAreaId: str = ""
    SourceJournalBatchNumber: str = ""
    SourceJournalLineNumber: Decimal | None = None
    PaymentFeeId: str = ""
    Amount: Decimal = Decimal(0)
    CurrencyCode: str = ""


class D365LedgerJournalHeader(D365Entity):
    dataAreaId: str = ""
    JournalBatchNumber: str = ""
    JournalName: str = ""
    Description: str = ""
    IntegrationKey: str = ""
    IsPosted: str = ""


class D365LedgerJournalLine(D365Entity):
    dataAreaId: str = ""
    JournalBatchNumber: str = ""
    LineNumber: Decimal | None = None
    Voucher: str = ""
    TransDate: datetime | None = None
    AccountType: str = ""
    AccountDisplayValue: str = ""
    OffsetAccountType: str = ""
    OffsetAccountDisplayValue: str = ""
    DebitAmount: Decimal = Decimal(0)
    CreditAmount: Decimal = Decimal(0)
    CurrencyCode: str = ""
    Text: str = ""
    PaymentReference: str = ""


class D365BusinessEvent(D365Entity):
    """The common business-event envelope (event-specific fields arrive as extras)."""

    BusinessEventId: str
    BusinessEventLegalEntity: str = ""
    ControlNumber: int = 0
    EventId: str = ""
    EventTime: str = ""
    EventTimeIso8601: str = ""
    MajorVersion: int = 0
    MinorVersion: int = 0


class D365SalesInvoicePostedEvent(D365BusinessEvent):
    InvoiceAccount: str = ""
    InvoiceId: str = ""
    SalesOrderId: str = ""
    InvoiceDate: str = ""
    InvoiceDueDate: str = ""
    InvoiceAmountInAccountingCurrency: Decimal = Decimal(0)
    InvoiceTaxAmount: Decimal = Decimal(0)
    LegalEntity: str = ""
