"""Reading v1 request bodies the forgiving way PayTrace does (strings or numbers, extra keys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from payledger.sandbox.paytrace import messages, protect
from payledger.sandbox.paytrace.cards import Card, validated_card
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.settings import PayTraceSandboxSettings

ADDRESS_KEYS = (
    "name",
    "street_address",
    "street_address2",
    "city",
    "county",
    "state",
    "zip",
    "country",
)
ECHOED_KEYS = (
    "invoice_id",
    "customer_reference_id",
    "description",
    "email",
    "tax_amount",
    "return_clr",
    "custom_dba",
    "enable_partial_authorization",
)


@dataclass
class Body:
    """One parsed JSON request body; unknown keys are ignored, as PayTrace does."""

    data: dict[str, Any]

    def text(self, name: str) -> str:
        value = self.data.get(name)
        if value is None or isinstance(value, dict | list):
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).strip()

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in {"true", "1", "yes", "y"}

    def section(self, name: str) -> Body:
        value = self.data.get(name)
        return Body(value if isinstance(value, dict) else {})

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] not in (None, "")

    def amount(self, name: str = "amount") -> Decimal:
        """A positive 2-decimal amount, or error 9101 (invented)."""
        value = self.optional_amount(name)
        if value is None:
            raise VendorErrors.of(messages.INVALID_AMOUNT)
        return value

    def optional_amount(self, name: str = "amount") -> Decimal | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise VendorErrors.of(messages.INVALID_AMOUNT) from None
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            raise VendorErrors.of(messages.INVALID_AMOUNT)
        return value.quantize(Decimal("0.01"))

    def id_number(
        self, name: str = "transaction_id", code: int = messages.INVALID_TRANSACTION_ID
    ) -> int:
        """A numeric id, or error ``code`` (58 for transaction ids) when blank or not a number."""
        raw = self.text(name)
        if not raw.isdigit():
            raise VendorErrors.of(code)
        return int(raw)

    def address(self, name: str) -> dict[str, str]:
        section = self.section(name)
        return {key: section.text(key) for key in ADDRESS_KEYS if section.has(key)}

    def echoed(self) -> dict[str, Any]:
        details: dict[str, Any] = {k: self.text(k) for k in ECHOED_KEYS if self.has(k)}
        for key in ("billing_address", "shipping_address"):
            if self.has(key):
                details[key] = self.address(key)
        return details

    def discretionary(self, settings: PayTraceSandboxSettings) -> dict[str, str]:
        """``discretionary_data`` as title → value; error 9109 (invented) when not allowed."""
        raw = self.data.get("discretionary_data")
        if raw in (None, ""):
            return {}
        allowed = settings.discretionary_fields
        if (
            not isinstance(raw, dict)
            or len(raw) > 6
            or (allowed and any(title not in allowed for title in raw))
        ):
            raise VendorErrors.of(messages.INVALID_DISCRETIONARY_DATA)
        return {str(title): "" if v is None else str(v) for title, v in raw.items()}

    def card(self, settings: PayTraceSandboxSettings, today: date) -> Card:
        """The ``credit_card`` section, plain or Protect-encrypted; errors 35 / 43 / 9104."""
        section = self.section("credit_card")
        number = section.text("number")
        if not number and section.has("encrypted_number"):
            number = _open(section.text("encrypted_number"), settings)
        return validated_card(
            number,
            section.data.get("expiration_month"),
            section.data.get("expiration_year"),
            today,
        )

    def csc(self, settings: PayTraceSandboxSettings) -> str:
        if self.has("csc"):
            return self.text("csc")
        if self.has("encrypted_csc"):
            return protect.decrypt_field(self.text("encrypted_csc"), settings.protect_key) or ""
        return ""


def _open(encrypted: str, settings: PayTraceSandboxSettings) -> str:
    number = protect.decrypt_field(encrypted, settings.protect_key)
    if number is not None:
        return number
    return "" if settings.protect_strict else settings.protect_fallback_number
