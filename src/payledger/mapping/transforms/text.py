"""Text, number and table transforms."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from payledger.mapping.errors import TransformError
from payledger.mapping.schema import FieldType
from payledger.mapping.transforms.registry import NUMBER, TEXT, transform

_NO_DEFAULT: Any = object()


def table_key(value: Any) -> str:
    """How lookup tables compare keys: as text, booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TransformError(f"{name} needs text, got {type(value).__name__} {value!r}")
    return value


@transform("upper", accepts=TEXT, returns=FieldType.STRING)
def upper(value: Any) -> str:
    """Upper-case text."""
    return _text(value, "upper").upper()


@transform("lower", accepts=TEXT, returns=FieldType.STRING)
def lower(value: Any) -> str:
    """Lower-case text."""
    return _text(value, "lower").lower()


@transform("trim", accepts=TEXT, returns=FieldType.STRING)
def trim(value: Any) -> str:
    """Strip outer whitespace and collapse inner runs of whitespace to one space."""
    return " ".join(_text(value, "trim").split())


@transform("truncate", accepts=TEXT, returns=FieldType.STRING)
def truncate(value: Any, *, length: int) -> str:
    """Cut text to at most ``length`` characters."""
    return _text(value, "truncate")[: int(length)]


@transform("prefix", accepts=TEXT, returns=FieldType.STRING)
def prefix(value: Any, *, text: str) -> str:
    """Put ``text`` in front."""
    return f"{text}{_text(value, 'prefix')}"


@transform("suffix", accepts=TEXT, returns=FieldType.STRING)
def suffix(value: Any, *, text: str) -> str:
    """Put ``text`` after."""
    return f"{_text(value, 'suffix')}{text}"


@transform("replace", accepts=TEXT, returns=FieldType.STRING)
def replace(value: Any, *, old: str, new: str = "") -> str:
    """Replace every ``old`` by ``new``."""
    return _text(value, "replace").replace(old, new)


@transform("to_text", returns=FieldType.STRING)
def to_text(value: Any) -> str:
    """Any scalar as text (``true``/``false`` for booleans)."""
    if isinstance(value, dict | list):
        raise TransformError(f"to_text needs a scalar, got {type(value).__name__}")
    return table_key(value)


@transform("to_integer", accepts=(*NUMBER, FieldType.STRING), returns=FieldType.INTEGER)
def to_integer(value: Any) -> int:
    """A whole number from text or a number without a fraction."""
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number")
    return int(number)


@transform("to_decimal", accepts=(*NUMBER, FieldType.STRING), returns=FieldType.DECIMAL)
def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from text or a number (floats are refused: they are not exact)."""
    if isinstance(value, bool | float):
        raise TransformError(f"refusing inexact {type(value).__name__} {value!r} as a number")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    try:
        number = Decimal(_text(value, "to_decimal").strip())
    except InvalidOperation:
        raise TransformError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise TransformError(f"{value!r} is not a finite number")
    return number


@transform("yes_no", accepts=(FieldType.BOOLEAN,), returns=FieldType.ENUM)
def yes_no(value: Any) -> str:
    """A boolean as the D365 ``NoYes`` enum symbol."""
    if not isinstance(value, bool):
        raise TransformError(f"yes_no needs true or false, got {value!r}")
    return "Yes" if value else "No"


@transform("display_value", accepts=TEXT, returns=FieldType.STRING)
def display_value(value: Any) -> str:
    r"""Escape a D365 ledger-dimension segment: ``US-001`` → ``US\-001``, ``\`` → ``\\``."""
    return _text(value, "display_value").replace("\\", "\\\\").replace("-", "\\-")


@transform("lookup")
def lookup(value: Any, *, table: Mapping[str, Any], default: Any = _NO_DEFAULT) -> Any:
    """Replace a value by its entry in ``table`` (keys compared as text)."""
    found = table.get(table_key(value), _NO_DEFAULT)
    if found is not _NO_DEFAULT:
        return found
    if default is not _NO_DEFAULT:
        return default
    raise TransformError(
        f"{value!r} is not in the lookup table (keys: {', '.join(sorted(table))}) "
        "and no default is given"
    )
