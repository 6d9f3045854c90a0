"""Expected gateway fees: a percentage of the amount plus a fixed part, per card type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from payledger.domain.errors import DomainError
from payledger.domain.money import minor_units

ANY_CARD = "*"
"""The fee rule for card types without their own."""


@dataclass(frozen=True, slots=True)
class FeeRule:
    """``percent`` of the amount plus ``fixed`` (in major units of the payment's currency)."""

    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.percent < 0 or self.fixed < 0:
            raise DomainError("fee percent and fixed part cannot be negative")

    @property
    def is_free(self) -> bool:
        return not (self.percent or self.fixed)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rules by card type (``VISA``, ``MASTERCARD``, ... or ``*`` for the rest)."""

    rules: Mapping[str, FeeRule] = field(default_factory=dict)
    _exact: dict[tuple[str, str], tuple[int, int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def is_configured(self) -> bool:
        return any(not rule.is_free for rule in self.rules.values())

    def rule_for(self, card_type: str) -> FeeRule | None:
        return self.rules.get(card_type.upper()) or self.rules.get(ANY_CARD)

    def fee(self, card_type: str, amount: int, currency: str) -> int:
        """The expected fee, in minor units, of a payment of ``amount`` minor units.

        The percentage is applied exactly and rounded half to even, once per payment.
        """
        exact = self._exact.get((card_type, currency))
        if exact is None:
            exact = self._exact.setdefault((card_type, currency), self._rates(card_type, currency))
        numerator, denominator, fixed = exact
        if not numerator:
            return fixed
        quotient, remainder = divmod(amount * numerator, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and quotient % 2):
            quotient += 1
        return quotient + fixed

    def _rates(self, card_type: str, currency: str) -> tuple[int, int, int]:
        rule = self.rule_for(card_type)
        if rule is None or rule.is_free:
            return 0, 1, 0
        rate = Fraction(rule.percent) / 100
        fixed = rule.fixed.scaleb(minor_units(currency)).quantize(Decimal(1), ROUND_HALF_EVEN)
        return rate.numerator, rate.denominator, int(fixed)
