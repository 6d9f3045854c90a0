"""Money: a ``Decimal`` amount with its ISO 4217 currency; never a float."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from payledger.domain.errors import CurrencyMismatch, DomainError

# ISO 4217 minor units for currencies that do not use two decimals.
_MINOR_UNITS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip


MAX_MINOR_UNITS = max(_MINOR_UNITS.values())
"""The most digits after the decimal point any currency has (3)."""

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency, 2)


def decimal_places(amount: Decimal) -> int:
    """Digits after the point as written (``Decimal("25.50")`` has 2, ``Decimal("25")`` 0)."""
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def plain_amount(value: object) -> Decimal:
    """``value`` as an exact, unsigned amount, refusing every way of writing one loosely.

    Accepted: a string of ASCII digits with at most one ``.`` between digits (``"25"``,
    ``"25.50"``), a non-negative int, or a finite, non-negative Decimal written without an
    exponent (as an exact JSON parser gives it). Refused: floats (never exact), booleans, signs,
    exponents, whitespace, other digits than 0-9, and more than :data:`MAX_MINOR_UNITS` places.

    Raises:
        DomainError: saying what is wrong, without repeating the value.
    """
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise DomainError(_written_as(value))
    amount = Decimal(value)
    if not amount.is_finite():
        raise DomainError("an amount must be a finite number")
    if amount.is_signed():
        raise DomainError("an amount is written without a sign")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        raise DomainError('an amount is written without an exponent, e.g. "100" not 1E+2')
    return _bounded_places(amount)


def _written_as(value: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "an amount must be a finite number"
    if isinstance(value, float):
        return (
            'an amount is sent as a decimal string such as "25.50": this JSON number was not '
            "read exactly (money is never a float)"
        )
    names = {bool: "true or false", type(None): "null", list: "a list", dict: "an object"}
    what = names.get(type(value), type(value).__name__)
    return f'an amount is a decimal number such as "25.00", not {what}'


def _parse_text(text: str) -> Decimal:
    if _PLAIN.fullmatch(text):
        return _bounded_places(Decimal(text))
    if text != text.strip():
        raise DomainError("an amount is written without spaces around it")
    if text[:1] in ("+", "-"):
        raise DomainError("an amount is written without a sign")
    if any(c.isdigit() and not c.isascii() for c in text):
        raise DomainError("an amount is written with the ASCII digits 0-9 only")
    if "e" in text.lower() and _PLAIN.fullmatch(re.sub(r"[eE][+-]?[0-9]+$", "", text)):
        raise DomainError('an amount is written without an exponent, e.g. "0.01" not "1E-2"')
    raise DomainError('an amount is a decimal number written like "25.00" or "25"')


def _bounded_places(amount: Decimal) -> Decimal:
    if decimal_places(amount) > MAX_MINOR_UNITS:
        raise DomainError(f"an amount has at most {MAX_MINOR_UNITS} decimal places")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, rounded to that currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise DomainError(f"currency must be a 3-letter ISO 4217 code, got {self.currency!r}")
        if not isinstance(self.amount, Decimal):
            raise DomainError(f"amount must be a Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise DomainError(f"amount must be finite, got {self.amount}")
        exponent = Decimal(1).scaleb(-minor_units(self.currency))
        object.__setattr__(self, "amount", self.amount.quantize(exponent, ROUND_HALF_EVEN))

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str = "USD") -> Money:
        """Parse ``amount`` exactly; floats are refused because they are not exact."""
        if isinstance(amount, float):
            raise DomainError("money is never built from a float; pass a string or Decimal")
        try:
            return cls(Decimal(amount), currency)
        except InvalidOperation:
            raise DomainError(f"not an amount: {amount!r}") from None

    @classmethod
    def exact(cls, amount: Decimal, currency: str) -> Money:
        """``amount`` in ``currency`` as written: more decimal places than the currency has
        (``"10.005"`` in USD, ``"25.5"`` in JPY) are refused, where ``Money(...)`` rounds."""
        places = minor_units(currency)
        if decimal_places(amount) > places:
            most = f"at most {places} decimal places" if places else "no decimal places"
            raise DomainError(f"{currency} amounts have {most}")
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def minor(self) -> int:
        """The amount in minor units (cents for USD)."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
