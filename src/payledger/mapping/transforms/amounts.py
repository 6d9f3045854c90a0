"""Money transforms: exact Decimals rounded to the currency's minor unit, never floats."""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any

from payledger.domain.money import minor_units
from payledger.mapping.errors import TransformError
from payledger.mapping.schema import FieldType
from payledger.mapping.transforms.registry import NUMBER, transform
from payledger.mapping.transforms.text import to_decimal

ROUNDINGS = {
    "half_even": ROUND_HALF_EVEN,
    "half_up": ROUND_HALF_UP,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}
_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(5)}


def _currency(code: Any) -> str:
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        raise TransformError(f"currency must be a 3-letter ISO 4217 code, got {code!r}")
    return code


def exponent(currency: str) -> Decimal:
    places = minor_units(_currency(currency))
    return _EXPONENTS.get(places) or Decimal(1).scaleb(-places)


def rounding_mode(name: str) -> str:
    try:
        return ROUNDINGS[name]
    except KeyError:
        raise TransformError(
            f"unknown rounding {name!r} (use one of {', '.join(ROUNDINGS)})"
        ) from None


_QUANTA: dict[tuple[str, str], tuple[Decimal, str]] = {}


def _quantum(currency: str, rounding: str) -> tuple[Decimal, str]:
    found = _QUANTA.get((currency, rounding))
    if found is None:
        found = _QUANTA[(currency, rounding)] = (exponent(currency), rounding_mode(rounding))
    return found


@transform("money", accepts=(*NUMBER, FieldType.STRING), returns=FieldType.DECIMAL)
def money(value: Any, *, currency: str = "USD", rounding: str = "half_even") -> Decimal:
    """An exact amount rounded to ``currency``'s minor unit (USD 2 places, JPY 0, KWD 3)."""
    amount = value if type(value) is Decimal else to_decimal(value)
    quantum, mode = _quantum(currency, rounding)
    return amount.quantize(quantum, mode)


@transform("to_minor_units", accepts=(*NUMBER, FieldType.STRING), returns=FieldType.INTEGER)
def to_minor_units(value: Any, *, currency: str = "USD") -> int:
    """An amount in minor units (cents for USD); refuses amounts finer than the unit."""
    amount = to_decimal(value)
    scaled = amount.scaleb(minor_units(_currency(currency)))
    if scaled != scaled.to_integral_value():
        raise TransformError(f"{amount} {currency} has more decimals than the currency allows")
    return int(scaled)


@transform("from_minor_units", accepts=(FieldType.INTEGER,), returns=FieldType.DECIMAL)
def from_minor_units(value: Any, *, currency: str = "USD") -> Decimal:
    """Minor units (cents) → an exact amount in ``currency``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TransformError(f"minor units must be a whole number, got {value!r}")
    places = minor_units(_currency(currency))
    return Decimal(value).scaleb(-places).quantize(exponent(currency))


@transform("negate", accepts=NUMBER, returns=FieldType.DECIMAL)
def negate(value: Any) -> Decimal:
    """The amount with its sign flipped."""
    amount: Decimal = -to_decimal(value)
    return amount


@transform("absolute", accepts=NUMBER, returns=FieldType.DECIMAL)
def absolute(value: Any) -> Decimal:
    """The amount without its sign."""
    amount: Decimal = abs(to_decimal(value))
    return amount
