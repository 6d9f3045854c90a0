"""Money: a ``Decimal`` amount with its ISO 4217 currency; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from payledger.domain.errors import CurrencyMismatch, DomainError

# ISO 4217 minor units for currencies that do not use two decimals.
_MINOR_UNITS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}  # fmt: skip


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency, 2)


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
