"""Value profiles: what sample values look like (a date, an amount, an ISO currency...), and
which profile a target field expects from its name and type."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from payledger.mapping.schema import FieldType


class Profile(StrEnum):
    """The shape of a field's values; ``TEXT`` when nothing more specific fits."""

    DATETIME = "date-time"
    DATE = "date"
    AMOUNT = "amount"
    CURRENCY = "ISO currency"
    COUNTRY = "country code"
    ZIP = "ZIP code"
    EMAIL = "e-mail"
    PHONE = "phone number"
    MASKED_CARD = "masked card"
    BOOLEAN = "yes/no"
    INTEGER = "whole number"
    TEXT = "text"


CURRENCIES = frozenset(
    {
        "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN",
        "CZK", "HUF", "MXN", "BRL", "INR", "CNY", "HKD", "SGD", "ZAR", "KWD", "BHD", "AED",
        "SAR",
    }
)  # fmt: skip
"""ISO 4217 codes common in the vendor references' examples (a profile, not a validator)."""

_FORMS: tuple[tuple[Profile, re.Pattern[str]], ...] = (
    (Profile.DATETIME, re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d{1,2}/\d{1,2}/\d{4} \d")),
    (Profile.DATE, re.compile(r"\d{4}-\d\d-\d\d\Z|\d{1,2}/\d{1,2}/\d{4}\Z")),
    (Profile.EMAIL, re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\Z")),
    (Profile.MASKED_CARD, re.compile(r"[xX*#]{4,}[ -]?\d{4}\Z|\d{6}[xX*#]{2,}\d{4}\Z")),
    (Profile.ZIP, re.compile(r"\d{5}(-\d{4})?\Z")),
    (Profile.PHONE, re.compile(r"\+?[\d ()-]{7,20}\Z")),
)


def profile_of_value(value: Any) -> Profile | None:
    """The profile of one value; None for a missing one."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Profile.BOOLEAN
    if isinstance(value, int):
        return Profile.INTEGER
    if isinstance(value, Decimal | float):
        return Profile.AMOUNT
    if not isinstance(value, str):
        return Profile.TEXT
    if value in CURRENCIES:
        return Profile.CURRENCY
    if len(value) == 2 and value.isalpha():
        return Profile.COUNTRY
    for profile, form in _FORMS:
        if form.match(value):
            return profile
    return Profile.TEXT


def profile_of(values: Iterable[Any]) -> Profile | None:
    """The profile most sample values share (at least two thirds of them), else TEXT."""
    counts = Counter(p for p in map(profile_of_value, values) if p is not None)
    if not counts:
        return None
    profile, count = counts.most_common(1)[0]
    return profile if count * 3 >= sum(counts.values()) * 2 else Profile.TEXT


_BY_CONCEPT: tuple[tuple[str, Profile], ...] = (
    ("currency", Profile.CURRENCY),
    ("email", Profile.EMAIL),
    ("zip", Profile.ZIP),
    ("country", Profile.COUNTRY),
    ("phone", Profile.PHONE),
    ("masked", Profile.MASKED_CARD),
)
_BY_TYPE = {
    FieldType.DATETIME: Profile.DATETIME,
    FieldType.DATE: Profile.DATE,
    FieldType.BOOLEAN: Profile.BOOLEAN,
    FieldType.INTEGER: Profile.INTEGER,
}
_MONEY = frozenset({"amount", "price", "tax", "fee", "credit", "debit"})


def expected_profile(concepts: Sequence[str], kind: FieldType) -> Profile | None:
    """The profile a target field named by ``concepts`` with type ``kind`` wants, if any."""
    for concept, profile in _BY_CONCEPT:
        if concept in concepts:
            return profile
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    if kind is FieldType.DECIMAL and _MONEY.intersection(concepts):
        return Profile.AMOUNT
    if kind is FieldType.ENUM and "organization" in concepts:
        return Profile.BOOLEAN
    if "date" in concepts or "due" in concepts:
        return Profile.DATE
    return None


_NEAR = {
    (Profile.DATE, Profile.DATETIME),
    (Profile.DATETIME, Profile.DATE),
    (Profile.AMOUNT, Profile.INTEGER),
    (Profile.INTEGER, Profile.AMOUNT),
}


def profile_fit(expected: Profile | None, found: Profile | None) -> float:
    """1 when the values look as expected, 0.6 for a near kind, 0 unknown, -1 a clash."""
    if expected is None or found is None:
        return 0.0
    if expected == found:
        return 1.0
    if (expected, found) in _NEAR:
        return 0.6
    return 0.0 if found is Profile.TEXT else -1.0
