"""PayTrace v1 wire models (fact sheet §4). Requests serialise amounts as 2-decimal strings;
responses are parsed leniently (unknown keys ignored, strings or numbers accepted) because the
vendor's shapes vary between years."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

CENT = Decimal("0.01")


def _two_decimals(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


Amount = Annotated[Decimal, PlainSerializer(_two_decimals, return_type=str)]
"""A Decimal sent as ``"12.30"``."""
RequestDate = Annotated[date, PlainSerializer(lambda d: d.strftime("%m/%d/%Y"), return_type=str)]
"""A date sent as ``MM/DD/YYYY``."""
Text = Annotated[str, BeforeValidator(_none_as_empty)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---- request parts -------------------------------------------------------------------------


class PayTraceAddress(_Request):
    name: str | None = None
    street_address: str | None = None
    street_address2: str | None = None
    city: str | None = None
    county: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    """ISO-3166 two-letter code."""


class PayTraceEncryptedCard(_Request):
    """A card as PayTrace Protect / client-side encryption hands it over: never a raw number."""

    encrypted_number: str
    expiration_month: int
    expiration_year: int


class PayTraceProtectNonce(_Request):
    """The one-time ``hpf_token`` + ``enc_key`` Protect.js returns."""

    hpf_token: str
    enc_key: str


class PayTraceCheck(_Request):
    account_number: str
    routing_number: str


class PayTraceSaleDetails(_Request):
    """Optional fields of sales, authorizations and refunds; all echoed in exports."""

    invoice_id: str | None = None
    customer_reference_id: str | None = None
    description: str | None = None
    email: str | None = None
    tax_amount: Amount | None = None
    billing_address: PayTraceAddress | None = None
    shipping_address: PayTraceAddress | None = None
    discretionary_data: dict[str, str] | None = None
    custom_dba: str | None = None
    return_clr: bool | None = None
    enable_partial_authorization: bool | None = None


class PayTraceCustomerDetails(_Request):
    """Optional contact fields of a customer profile."""

    billing_address: PayTraceAddress | None = None
    shipping_address: PayTraceAddress | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    discretionary_data: dict[str, str] | None = None


class PayTraceRecurrenceSpec(_Request):
    """A recurring schedule; inner key names beyond amount/start_date are UNCERTAIN."""

    amount: Amount | None = None
    start_date: RequestDate | None = None
    frequency: str | None = None
    """1 annually, 8 semi-annually, A trimesterly, 2 quarterly, 9 bi-monthly, 3 monthly,
    4 bi-weekly, 7 1st & 15th, 5 weekly, 6 daily."""
    total_count: int | None = None
    """999 = indefinite."""
    transaction_type: str | None = None
    description: str | None = None
    customer_receipt: bool | None = None
    id: int | None = None


# ---- responses -----------------------------------------------------------------------------


class PayTraceToken(_Response):
    access_token: str
    token_type: str
    expires_in: int
    created_at: int | None = None


class PayTraceEnvelope(_Response):
    """``success`` / ``response_code`` / ``status_message`` (+ ``errors``) on every reply."""

    can_decline: ClassVar[bool] = False
    """Whether ``success: false`` without ``errors`` is a business answer (a decline)."""

    success: bool
    response_code: int
    status_message: Text = ""
    errors: dict[str, list[str]] = Field(default_factory=dict)
    external_transaction_id: Text = ""


class PayTraceTransactionResult(PayTraceEnvelope):
    """Sale / authorization / capture / void / refund answer ("TxnResult")."""

    can_decline: ClassVar[bool] = True

    transaction_id: int | None = None
    approval_code: Text = ""
    approval_message: Text = ""
    avs_response: Text = ""
    csc_response: Text = ""
    masked_card_number: Text = ""
    discretionary_data: dict[str, str] = Field(default_factory=dict)
    recovered: bool = False
    """Set by the client when the answer was lost and rebuilt from an export lookup."""


class PayTraceCheckResult(PayTraceEnvelope):
    can_decline: ClassVar[bool] = True

    check_transaction_id: int | None = None
    ach_code: int | None = None
    ach_message: Text = ""


class PayTraceCustomerResult(PayTraceEnvelope):
    customer_id: Text = ""
    masked_card_number: Text = ""


class PayTraceAdjustResult(PayTraceEnvelope):
    transaction_id: int | None = None
    amount: Decimal | None = None


class PayTraceSettleResult(PayTraceEnvelope):
    batch_number: int | None = None
    transaction_count: int = 0
    net_amount: Decimal = Decimal("0")


class PayTraceProtectKey(PayTraceEnvelope):
    client_key: str = Field(alias="clientKey")


class PayTraceCardInfo(_Response):
    masked_number: Text = ""
    expiration_month: int | None = None
    expiration_year: int | None = None


class PayTraceCreated(_Response):
    through: Text = ""
    at: Text = ""
    by: Text = ""
    from_ip: Text = ""


class PayTraceAddressOut(_Response):
    name: Text = ""
    street_address: Text = ""
    street_address2: Text = ""
    city: Text = ""
    county: Text = ""
    state: Text = ""
    zip: Text = ""
    country: Text = ""


class PayTraceTransaction(_Response):
    """One export record (``/v1/transactions/export/...``)."""

    transaction_id: int
    transaction_type: Text = ""
    amount: Decimal
    credit_card: PayTraceCardInfo = Field(default_factory=PayTraceCardInfo)
    description: Text = ""
    invoice_id: Text = ""
    customer_reference_id: Text = ""
    tax_amount: Text = ""
    billing_address: PayTraceAddressOut = Field(default_factory=PayTraceAddressOut)
    shipping_address: PayTraceAddressOut = Field(default_factory=PayTraceAddressOut)
    receipt_emailed_to: Text = ""
    approval_code: Text = ""
    approval_message: Text = ""
    avs_response: Text = ""
    csc_response: Text = ""
    status_code: Text = ""
    status_message: Text = ""
    created: PayTraceCreated = Field(default_factory=PayTraceCreated)
    settled: Text = ""
    customer_id: Text = ""
    discretionary_data: dict[str, str] = Field(default_factory=dict)
    original_transaction_id: int | None = None
    """Sandbox extra (UNCERTAIN for real PayTrace)."""
    batch_number: int | None = None
    """Sandbox extra (UNCERTAIN for real PayTrace)."""


class PayTraceCheckAccount(_Response):
    masked_account_number: Text = ""
    routing_number: Text = ""


class PayTraceCheckRecord(_Response):
    """One exported check (ACH) transaction; the shape is an assumption (fact sheet §4.14:
    no check export is documented), modelled on the card record with ``check_transaction_id``."""

    check_transaction_id: int
    transaction_type: Text = ""
    """``CHECK SALE``, ``CHECK HOLD`` or ``CHECK REFUND`` in the sandbox."""
    amount: Decimal
    check: PayTraceCheckAccount = Field(default_factory=PayTraceCheckAccount)
    description: Text = ""
    invoice_id: Text = ""
    customer_reference_id: Text = ""
    billing_address: PayTraceAddressOut = Field(default_factory=PayTraceAddressOut)
    status_code: Text = ""
    status_message: Text = ""
    ach_code: int | None = None
    ach_message: Text = ""
    created: PayTraceCreated = Field(default_factory=PayTraceCreated)
    settled: Text = ""
    customer_id: Text = ""
    discretionary_data: dict[str, str] = Field(default_factory=dict)
    original_check_id: int | None = None


def _is_check_record(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and "check_transaction_id" in record
        and "transaction_id" not in record
    )


class PayTraceTransactions(PayTraceEnvelope):
    """An export answer. Check records, whether listed under ``transactions`` (told apart by
    ``check_transaction_id``) or under ``checks``, are parsed into ``checks``."""

    transactions: list[PayTraceTransaction] = Field(default_factory=list)
    checks: list[PayTraceCheckRecord] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _split_checks(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("transactions"), list):
            return data
        records = data["transactions"]
        checks = [r for r in records if _is_check_record(r)]
        if not checks:
            return data
        return {
            **data,
            "transactions": [r for r in records if not _is_check_record(r)],
            "checks": [*(data.get("checks") or []), *checks],
        }


class PayTraceBatch(_Response):
    """A settlement batch summary (JSON names UNCERTAIN; the classic field set is confirmed)."""

    batch_number: int
    created: Text = ""
    transaction_count: int = 0
    net_amount: Decimal = Decimal("0")
    sales_count: int = 0
    sales_amount: Decimal = Decimal("0")
    refund_count: int = 0
    refund_amount: Decimal = Decimal("0")
    card_types: dict[str, dict[str, Any]] = Field(default_factory=dict)


class PayTraceBatches(PayTraceEnvelope):
    batches: list[PayTraceBatch] = Field(default_factory=list)


class PayTraceCustomerProfile(_Response):
    customer_id: str
    credit_card: PayTraceCardInfo | None = None
    billing_address: PayTraceAddressOut = Field(default_factory=PayTraceAddressOut)
    shipping_address: PayTraceAddressOut = Field(default_factory=PayTraceAddressOut)
    email: Text = ""
    phone: Text = ""
    fax: Text = ""
    discretionary_data: dict[str, str] = Field(default_factory=dict)
    created: PayTraceCreated | None = None


class PayTraceCustomers(PayTraceEnvelope):
    customers: list[PayTraceCustomerProfile] = Field(default_factory=list)


class PayTraceRecurrence(_Response):
    id: int
    customer_id: Text = ""
    amount: Decimal | None = None
    frequency: Text = ""
    start_date: Text = ""
    next_date: Text = ""
    total_count: int | None = None
    current_count: int | None = None
    transaction_type: Text = ""
    description: Text = ""
    status: Text = ""


class PayTraceRecurrenceResult(PayTraceEnvelope):
    recurrence: PayTraceRecurrence | None = None
    recurrences: list[PayTraceRecurrence] = Field(default_factory=list)
