"""Recognising card data, so that it is refused at the door and never written anywhere.

A card number (PAN) is 13-19 digits, possibly split by single spaces or dashes, that passes the
Luhn check *and* starts with a known brand prefix at a length that brand issues. Luhn alone is
too weak (one random digit string in ten passes), so the brand table keeps order numbers,
amounts and timestamps out. Security codes and track data cannot be recognised by value; they
are refused by field name (and track data by its sentinel layout).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_UUID = re.compile(
    r"(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])"
)
"""A UUID (idempotency keys, delivery ids) is never a card number, though about one in 3,000
random ones holds a digit run that would pass for one."""
_TRACK_DATA = re.compile(r"%B\d{12,19}\^|;\d{12,19}=\d{4}")

# (first digits low, high, allowed lengths) per brand; prefixes compared on equal length.
_BRANDS: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", range(16, 20)),  # Discover
    ("644", "649", range(16, 20)),
    ("65", "65", range(16, 20)),
    ("622126", "622925", range(16, 20)),
    ("3528", "3589", range(16, 20)),  # JCB
    ("300", "305", range(14, 20)),  # Diners Club
    ("36", "36", range(14, 20)),
    ("38", "39", range(16, 20)),
    ("62", "62", range(16, 20)),  # UnionPay
    ("50", "50", range(13, 20)),  # Maestro
    ("56", "58", range(13, 20)),
    ("67", "67", range(13, 20)),
)

SENSITIVE_FIELD_NAMES = frozenset(
    {
        "ccnumber", "cardnumber", "creditcardnumber", "cardno", "pan", "primaryaccountnumber",
        "csc", "cvv", "cvv2", "cvc", "cvc2", "securitycode", "cardsecuritycode",
        "track1", "track2", "trackdata", "magstripe", "pinblock",
    }
)  # fmt: skip
"""Field names (compared without case, ``_`` or ``-``) that may only ever hold card data."""


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _has_brand_prefix(digits: str) -> bool:
    for low, high, lengths in _BRANDS:
        if len(digits) in lengths and low <= digits[: len(low)] <= high:
            return True
    return False


def _plain_digits(candidate: str) -> str:
    # int() maps every Unicode decimal digit (e.g. fullwidth or Arabic-Indic) to 0-9.
    return "".join(str(int(ch)) for ch in candidate if ch.isdigit())


def find_card_numbers(text: str) -> list[str]:
    """Every card number in ``text``, as plain ASCII digits."""
    found = []
    for match in _CANDIDATE.finditer(_UUID.sub("|", text)):
        digits = _plain_digits(match.group())
        if 13 <= len(digits) <= 19 and _has_brand_prefix(digits) and luhn_valid(digits):
            found.append(digits)
    return found


def holds_card_data(text: str) -> bool:
    return bool(find_card_numbers(text)) or bool(_TRACK_DATA.search(text))


def mask(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"


def redact_card_numbers(text: str) -> str:
    """``text`` with every card number replaced by a masked form showing the last four digits."""

    def replace(match: re.Match[str]) -> str:
        digits = _plain_digits(match.group())
        if 13 <= len(digits) <= 19 and _has_brand_prefix(digits) and luhn_valid(digits):
            return mask(digits)
        return match.group()

    def redact(part: str) -> str:
        return _TRACK_DATA.sub("[track data]", _CANDIDATE.sub(replace, part))

    kept, start = [], 0
    for uuid in _UUID.finditer(text):
        kept += [redact(text[start : uuid.start()]), uuid.group()]
        start = uuid.end()
    return "".join([*kept, redact(text[start:])])


def _normalised(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def find_card_data(payload: Any, *, path: str = "$") -> list[str]:
    """Paths in a JSON-like ``payload`` that hold card data (by value or by field name).

    Field names are matched exactly after normalisation, so ``card_number`` or ``cvv`` is
    refused whatever it holds, while ``order_number`` is judged by its value only.
    """
    return list(_walk(payload, path))


def _walk(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            key_text = str(key)
            if holds_card_data(key_text):
                yield f"{path}.<key>"
            elif _normalised(key_text) in SENSITIVE_FIELD_NAMES and value not in (None, ""):
                yield child
                continue
            yield from _walk(value, child)
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")
    elif isinstance(node, str | int) and not isinstance(node, bool) and holds_card_data(str(node)):
        yield path
