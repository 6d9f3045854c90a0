"""Card rules of the sandbox: Luhn, expiry, brand, masking, AVS/CSC and decline triggers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from payledger.sandbox.paytrace import messages
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.settings import AddressOnFile, PayTraceSandboxSettings

_BRANDS = (
    ("34", "AMEX"),
    ("37", "AMEX"),
    ("4", "VISA"),
    ("5", "MASTERCARD"),
    ("2", "MASTERCARD"),
    ("6011", "DISCOVER"),
    ("65", "DISCOVER"),
    ("35", "JCB"),
    ("36", "DINERS"),
    ("30", "DINERS"),
)


@dataclass(frozen=True)
class Card:
    """A card the sandbox holds; the PAN never leaves the sandbox unmasked."""

    number: str
    expiration_month: int
    expiration_year: int

    @property
    def brand(self) -> str:
        return next((b for prefix, b in _BRANDS if self.number.startswith(prefix)), "PRIVATE")

    @property
    def masked(self) -> str:
        """Transaction-response style: ``xxxxxxxxxxxx5439``."""
        return "x" * (len(self.number) - 4) + self.number[-4:]

    def export_mask(self, include_bin: bool = False) -> str:
        """Export style: ``************5454`` (first 6 shown when ``include_bin``)."""
        hidden = "*" * (len(self.number) - 10) if include_bin else "*" * (len(self.number) - 4)
        head = self.number[:6] if include_bin else ""
        return head + hidden + self.number[-4:]


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def validated_card(number: str, month: object, year: object, today: date) -> Card:
    """A :class:`Card`, or ``VendorErrors`` carrying 35 / 43 / 9104 together as they apply."""
    problems = VendorErrors()
    digits = number.replace(" ", "").replace("-", "")
    if not luhn_ok(digits):
        problems.add(messages.INVALID_CARD_NUMBER)
    month_value = _as_int(month)
    if month_value is None or not 1 <= month_value <= 12:
        problems.add(messages.INVALID_EXPIRATION_MONTH)
    year_value = _as_int(year)
    if year_value is not None and year_value < 100:
        year_value += 2000
    if year_value is None or not _year_usable(year_value, month_value, today):
        problems.add(messages.INVALID_EXPIRATION_YEAR)
    problems.raise_if_any()
    assert month_value is not None and year_value is not None
    return Card(digits, month_value, year_value)


def _year_usable(year: int, month: int | None, today: date) -> bool:
    """Not expired (a valid month of this year counts to its end) and not absurdly far out."""
    if not today.year <= year <= today.year + 20:
        return False
    return not (year == today.year and month is not None and month < today.month)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def avs_response(billing: dict[str, str], on_file: AddressOnFile) -> str:
    """Compare the street number and zip sent with the address on file (fact sheet §9)."""
    street = billing.get("street_address", "").strip()
    zip_code = billing.get("zip", "").strip()
    if not street and not zip_code:
        return "Address Unavailable"
    street_match = bool(street) and street.split()[0] == on_file.street_address.split()[0]
    zip_match = bool(zip_code) and zip_code[:5] == on_file.zip[:5]
    if street_match and zip_match:
        return "Full Exact Match"
    if street_match:
        return "Address Match Only"
    if zip_match:
        return "Zip Match Only"
    return "No Match"


_AVS_LABELS = {
    "Full Exact Match": "EXACT MATCH",
    "Address Match Only": "ADDRESS MATCH",
    "Zip Match Only": "ZIP MATCH",
    "No Match": "  NO  MATCH",
}


def approval_message(avs: str, approval_code: str) -> str:
    label = _AVS_LABELS.get(avs, f"APPROVAL {approval_code} ")
    return f"{label} - Approved and completed"


def csc_response(card: Card, csc: str | None) -> str:
    """``Match`` for 999, ``No Match`` otherwise, empty when absent or for Amex (§3.2)."""
    if not csc or card.brand == "AMEX":
        return ""
    if card.brand == "JCB":
        return "Issuer Does Not Support CSC"
    return "Match" if csc.strip() == "999" else "No Match"


def decline_text(amount: Decimal, settings: PayTraceSandboxSettings) -> str | None:
    """Processor text of the decline ``amount`` triggers, or ``None`` to approve."""
    return settings.declines.get(str(amount.quantize(Decimal("0.01"))))


@dataclass
class CustomerDeclines:
    """A test's control (never PayTrace's): the next ``remaining`` charges of a vault
    customer's card are declined with ``text``, whatever the amount; then it approves again."""

    text: str
    remaining: int


def customer_decline(declines: dict[str, CustomerDeclines], customer_id: str) -> str | None:
    """Processor text of the decline set for ``customer_id``'s next charge (used up by it)."""
    run = declines.get(customer_id) if customer_id else None
    if run is None or run.remaining <= 0:
        return None
    run.remaining -= 1
    return run.text
