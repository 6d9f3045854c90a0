"""Recognising card data, so that it is refused at the door and never written anywhere.

Card data is a card number or track data in any text (``card_numbers.py`` says how they are
found), and any value of a field named for card data: security codes cannot be recognised by
value, so ``cvv`` or ``card_number`` is refused whatever it holds. In a JSON-like payload every
value is read: strings, numbers (in fixed-point form), dict keys, lists.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payledger.domain.card_numbers import (
    MAX_DIGITS,
    find_card_numbers,
    holds_card_data,
    luhn_valid,
    mask,
    masked_card_data,
    redact_card_numbers,
)

__all__ = [
    "SENSITIVE_FIELD_NAMES",
    "CardDataFinding",
    "card_data_findings",
    "find_card_data",
    "find_card_numbers",
    "holds_card_data",
    "luhn_valid",
    "mask",
    "masked_card_data",
    "redact_card_numbers",
]

MAX_PADDING = 40
"""A number needing more zeros than this in fixed-point form holds a group of 20+ digits."""

SENSITIVE_FIELD_NAMES = frozenset(
    {
        "ccnumber", "cardnumber", "creditcardnumber", "cardno", "pan", "primaryaccountnumber",
        "csc", "cvv", "cvv2", "cvc", "cvc2", "securitycode", "cardsecuritycode",
        "track1", "track2", "trackdata", "magstripe", "pinblock",
    }
)  # fmt: skip
"""Field names (compared without case, ``_`` or ``-``) that may only ever hold card data."""


@dataclass(frozen=True)
class CardDataFinding:
    """Where card data sits in a JSON-like payload, and what it is (masked)."""

    path: str
    what: str


def find_card_data(payload: Any, *, path: str = "$") -> list[str]:
    """Paths in a JSON-like ``payload`` that hold card data (by value or by field name).

    Field names are matched exactly after normalisation, so ``card_number`` or ``cvv`` is
    refused whatever it holds, while ``order_number`` is judged by its value only.
    """
    return [finding.path for finding in card_data_findings(payload, path=path)]


def card_data_findings(payload: Any, *, path: str = "$") -> list[CardDataFinding]:
    """Like ``find_card_data``, with what each place holds; in document order.

    Every JSON value is read: strings, integers, floats and decimals (in fixed-point form),
    dict keys, lists and tuples. A bool is not a number here.
    """
    found: list[CardDataFinding] = []
    stack: list[tuple[Any, str] | CardDataFinding] = [(payload, path)]
    while stack:  # no recursion: a deeply nested document must not raise RecursionError
        item = stack.pop()
        if isinstance(item, CardDataFinding):
            found.append(item)
            continue
        node, where = item
        if isinstance(node, dict):
            stack.extend(reversed(list(_entries(node, where))))
        elif isinstance(node, list | tuple):
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(node))))
        elif masks := _scalar_card_data(node):
            found.append(CardDataFinding(where, ", ".join(masks)))
    return found


def _entries(node: dict[Any, Any], where: str) -> Iterator[tuple[Any, str] | CardDataFinding]:
    for key, value in node.items():
        child = f"{where}.{key}"
        if masks := _scalar_card_data(key):
            child = f"{where}.<key>"  # a path is shown and logged: it must not carry the card
            yield CardDataFinding(child, ", ".join(masks))
        elif _field_name(str(key)) in SENSITIVE_FIELD_NAMES and value not in (None, ""):
            yield CardDataFinding(child, f"[field {key}]")
            continue
        yield value, child


def _field_name(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def _scalar_card_data(node: Any) -> list[str]:
    text = _scalar_text(node)
    return masked_card_data(text) if text else []


def _scalar_text(node: Any) -> str | None:
    if isinstance(node, str):
        return node
    if isinstance(node, bool):
        return None
    if isinstance(node, int):  # 20+ digits are no card, and str() refuses 4,300+ digits
        return str(node) if abs(node) < 10**MAX_DIGITS else None
    if isinstance(node, float):
        return _fixed_point(Decimal(repr(node))) if math.isfinite(node) else None
    if isinstance(node, Decimal):
        return _fixed_point(node)
    return None


def _fixed_point(number: Decimal) -> str | None:
    """``number`` without exponent (``12345E3`` -> ``12345000``, ``1.5E-2`` -> ``0.015``), unless
    that takes more than ``MAX_PADDING`` zeros: then it is no card, and ``1E999999`` must not
    become a million characters."""
    if not number.is_finite():
        return None
    digits, exponent = number.as_tuple().digits, int(number.as_tuple().exponent)
    padding = exponent if exponent > 0 else max(0, -exponent - len(digits) + 1)
    return None if padding > MAX_PADDING else format(number, "f")
