"""The two vendors: the PayTrace account and the D365 environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from payledger.config.base import Section


class PayTraceSettings(Section):
    """The PayTrace merchant account (API v1)."""

    enabled: bool = False
    """Poll PayTrace for payments on ``poll_cron`` (the primary event source)."""
    base_url: str = "https://api.paytrace.com"
    username: str = ""
    password_secret: str = "paytrace-password"  # noqa: S105 - a vault name, not a password
    """Name of the vault secret holding the API password."""
    integrator_id: str = ""
    timeout_seconds: float = Field(60.0, ge=1)
    timezone: str = "America/Los_Angeles"
    """Zone of PayTrace's local date texts."""
    currency: str = "USD"
    correlation_field: str = ""
    """Discretionary-data title that receives payledger's reference on every charge."""
    poll_cron: str = "* * * * *"
    poll_overlap_minutes: float = Field(30.0, ge=0)
    first_poll_lookback_hours: float = Field(24.0, gt=0)
    discretionary_titles: list[str] = Field(default_factory=lambda: ["D365 Order", "D365 Customer"])
    """Discretionary-data titles configured on the merchant account (PayTrace allows 6)."""
    order_title: str = "D365 Order"
    """The discretionary title that carries the D365 sales order number."""
    customer_title: str = "D365 Customer"
    """The discretionary title that carries the D365 customer account."""
    recurring_through: str = "Recurring"
    """UNCERTAIN: the export's ``created.through`` of the charges PayTrace's own recurring
    schedules make; they are posted as recurring charges and pay the periods of subscriptions
    imported from those schedules (``""``: none is recognised)."""
    check_export_path: str = "/v1/transactions/export/by_date_range"
    """Where check (ACH) transactions are exported (UNCERTAIN: none is documented); the
    default reads them from the transaction export, ``""`` does not look for them."""


class D365Fields(Section):
    """Names of the D365 extension (custom) fields payledger reads and writes."""

    customer_paytrace_id: str = "PayTraceCustomerId"
    customer_sync: str = "PayTraceSync"
    """NoYes field on customers: Yes keeps the customer in step with a PayTrace profile."""
    order_payment_status: str = "PaymentStatus"
    order_payment_auth_id: str = "PaymentAuthId"
    order_payment_amount: str = "PaymentAmount"
    order_payment_message: str = "PaymentMessage"
    """Human-readable reason of the last decline."""
    customer_auto_pay: str = "PayTraceAutoPay"
    """NoYes field on customers: charge their card on file when an invoice is posted."""


class D365EntitySetNames(Section):
    """Entity set names, for environments that expose newer versions."""

    customers: str = "CustomersV3"
    sales_orders: str = "SalesOrderHeadersV2"
    sales_order_lines: str = "SalesOrderLines"
    invoices: str = "SalesInvoiceHeadersV2"
    payment_journal_headers: str = "CustomerPaymentJournalHeaders"
    payment_journal_lines: str = "CustomerPaymentJournalLines"
    ledger_journal_headers: str = "LedgerJournalHeaders"
    ledger_journal_lines: str = "LedgerJournalLines"
    customer_transactions: str = "CustTransactions"
    """UNCERTAIN (not a standard entity): customer transactions with ``Invoice``,
    ``AmountCur`` and ``SettleAmountCur``, read back after payledger posts a journal (only
    needed when ``[posting] post`` is not ``never``)."""
    free_text_invoice_headers: str = "FreeTextInvoiceHeaders"
    """Writable free-text invoices (subscriptions bill through them); writability UNCERTAIN."""
    free_text_invoice_lines: str = "FreeTextInvoiceLines"


class D365SetupEntitySetNames(Section):
    """Entity sets of the F&O setup that ``payledger doctor`` reads to verify ``[d365]`` values.

    payledger never writes them. An environment that does not expose one is no error: the
    doctor then looks for the value where it is in use instead.
    """

    legal_entities: str = "LegalEntities"
    """Where ``company`` is defined (``LegalEntityId``)."""
    journal_names: str = "JournalNames"
    """Where ``payment_journal_name`` and ``general_journal_name`` are defined."""
    payment_methods: str = "CustomerPaymentMethods"
    """Customer methods of payment: ``payment_method``, and the journal names and accounts
    they use."""
    bank_accounts: str = "BankAccounts"
    """Where clearing and deposit accounts of type ``Bank`` are defined."""
    main_accounts: str = "MainAccounts"
    """The chart of accounts: accounts of type ``Ledger`` (not company-scoped)."""
    customer_groups: str = "CustomerGroups"
    """Where ``customer_group`` is defined."""


class D365Settings(Section):
    """The Dynamics 365 Finance & Operations environment and legal entity."""

    enabled: bool = False
    base_url: str = "https://contoso.operations.dynamics.com"
    """The environment URL (also the token resource unless ``resource`` is set)."""
    auth: Literal["entra", "entra_certificate", "adfs"] = "entra"
    """``entra``: Entra ID with the client secret; ``entra_certificate``: Entra ID with the
    certificate and private key; ``adfs``: AD FS (on-premises) with the client secret."""
    tenant: str = ""
    client_id: str = ""
    client_secret_secret: str = "d365-client-secret"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the app's client secret."""
    certificate_secret: str = "d365-certificate"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the app's certificate (PEM), for ``entra_certificate``."""
    private_key_secret: str = "d365-private-key"  # noqa: S105 - a vault name, not a secret
    """Name of the vault secret holding the certificate's private key (PEM, unencrypted)."""
    authority_host: str = "https://login.microsoftonline.com"
    adfs_url: str = ""
    """AD FS root for on-premises environments, e.g. ``https://adfs.contoso.com/adfs``."""
    resource: str = ""
    ca_file: Path | None = None
    """Extra CA certificate to trust (the sandbox's self-signed certificate)."""
    timeout_seconds: float = Field(60.0, ge=1)
    company: str = "usmf"
    timezone: str = "America/Los_Angeles"
    """The zone whose calendar day is a payment's business day (and journal)."""
    payment_journal_name: str = "CustPay"
    general_journal_name: str = "GenJrn"
    payment_method: str = "ELECTRONIC"
    ach_payment_method: str = ""
    """Method of payment of ACH (check) lines; empty: ``payment_method``."""
    clearing_account_type: Literal["Bank", "Ledger"] = "Bank"
    clearing_account: str = "USMF OPER"
    deposit_account_type: Literal["Bank", "Ledger"] = "Bank"
    deposit_account: str = "USMF EUR"
    fee_account: str = ""
    summary_customer_account: str = ""
    customer_group: str = "30"
    fallback_customer_account: str = ""
    """Customer account for payments no rule resolves; empty parks them instead."""
    fields: D365Fields = D365Fields()
    entity_sets: D365EntitySetNames = D365EntitySetNames()
    setup_entity_sets: D365SetupEntitySetNames = D365SetupEntitySetNames()
    string_lengths: dict[str, int] = Field(default_factory=dict)
    """``"Entity.Field" = n``: F&O's $metadata has no string lengths; give the ones that matter."""

    @field_validator("company")
    @classmethod
    def _lower_case(cls, company: str) -> str:
        return company.lower()
