"""Built-in transforms: dates, money, names, addresses, codes, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.mapping import TRANSFORMS, TransformError


def run(name: str, value: object, **args: object) -> object:
    return TRANSFORMS[name].fn(value, **args)


# Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("4/10/2015 4:06:30 PM", "2015-04-10T23:06:30Z"),  # PDT, UTC-7
        ("1/15/2025 9:00:00 AM", "2025-01-15T17:00:00Z"),  # PST, UTC-8
        ("12/31/2024  11:59:59 PM", "2025-01-01T07:59:59Z"),  # extra spaces are tolerated
        ("11/2/2025 1:30:00 AM", "2025-11-02T08:30:00Z"),  # fall-back hour: the earlier reading
    ],
)
def test_paytrace_text_to_utc(text: str, utc: str):
    assert run("paytrace_to_utc", text) == utc


def test_utc_to_paytrace_text_and_request_date():
    assert run("utc_to_paytrace", "2015-04-10T23:06:30Z") == "4/10/2015 4:06:30 PM"
    assert run("utc_to_paytrace", "2025-01-15T08:05:00Z") == "1/15/2025 12:05:00 AM"
    assert run("paytrace_date", "2025-03-05T03:04:05Z") == "03/04/2025"
    assert run("paytrace_date", "2025-03-05") == "03/05/2025"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_utc_to_paytrace_text_and_back_is_the_same_instant(moment: datetime):
    instant = moment.replace(microsecond=0, tzinfo=UTC)
    text = run("utc_to_paytrace", instant)
    back = datetime.fromisoformat(str(run("paytrace_to_utc", text)))
    # The autumn repeated hour reads back as its earlier (daylight) occurrence.
    assert back - instant in (timedelta(0), timedelta(hours=-1))


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        ("2025-03-05T03:04:05Z", "UTC", "2025-03-05T12:00:00Z"),
        ("2025-03-05T03:04:05Z", "America/Los_Angeles", "2025-03-04T12:00:00Z"),
        ("2025-03-05T03:04:05+09:00", "UTC", "2025-03-04T12:00:00Z"),
        ("2025-04-04", "America/Los_Angeles", "2025-04-04T12:00:00Z"),
        (datetime(2025, 3, 5, 23, 30, tzinfo=UTC), "Europe/Berlin", "2025-03-06T12:00:00Z"),
    ],
)
def test_d365_date_only_convention(value: object, tz: str, expected: str):
    assert run("d365_date", value, tz=tz) == expected


def test_from_d365_date_treats_1900_as_empty():
    assert run("from_d365_date", "2025-03-05T12:00:00Z") == "2025-03-05"
    assert run("from_d365_date", "1900-01-01T12:00:00Z") is None


def test_iso_utc_and_local_date():
    assert run("to_iso_utc", "2025-03-05T10:04:05.123+07:00") == "2025-03-05T03:04:05Z"
    assert run("local_date", "2025-03-05T03:04:05Z", tz="America/Los_Angeles") == "2025-03-04"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("to_iso_utc", "2025-03-05T03:04:05", "has no time zone"),
        ("to_iso_utc", "yesterday", "not an ISO-8601 date-time"),
        ("paytrace_to_utc", "2025-03-05", "not PayTrace date text"),
        ("d365_date", 20250305, "expected a date-time"),
    ],
)
def test_bad_dates_are_refused(name: str, value: object, message: str):
    with pytest.raises(TransformError, match=message):
        run(name, value)


def test_an_unknown_zone_is_refused():
    with pytest.raises(TransformError, match="unknown time zone"):
        run("d365_date", "2025-03-05T03:04:05Z", tz="Mars/Olympus")


# Money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("125.5"), "USD", Decimal("125.50")),
        (Decimal("0.125"), "USD", Decimal("0.12")),  # banker's rounding by default
        (Decimal("0.135"), "USD", Decimal("0.14")),
        ("1234.5", "JPY", Decimal("1234")),
        (7, "KWD", Decimal("7.000")),
    ],
)
def test_money_rounds_to_the_currency_minor_unit(value: object, currency: str, expected: Decimal):
    result = run("money", value, currency=currency)
    assert result == expected and str(result) == str(expected)


def test_money_rounding_can_be_chosen_and_floats_are_refused():
    assert run("money", Decimal("0.125"), rounding="half_up") == Decimal("0.13")
    with pytest.raises(TransformError, match="inexact float"):
        run("money", 0.1)
    with pytest.raises(TransformError, match="unknown rounding"):
        run("money", Decimal(1), rounding="nearest")
    with pytest.raises(TransformError, match="3-letter ISO 4217"):
        run("money", Decimal(1), currency="usd")


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["USD", "JPY", "KWD"]))
def test_minor_units_round_trip(minor: int, currency: str):
    amount = run("from_minor_units", minor, currency=currency)
    assert run("to_minor_units", amount, currency=currency) == minor


def test_minor_units_refuse_finer_amounts():
    with pytest.raises(TransformError, match="more decimals"):
        run("to_minor_units", Decimal("1.005"), currency="USD")


def test_journal_side_and_amount_follow_the_payment_kind():
    sides = {kind: run("journal_side", kind) for kind in ("sale", "capture", "refund", "void")}
    assert sides == {"sale": "credit", "capture": "credit", "refund": "debit", "void": "debit"}
    assert run("journal_amount", Decimal("5.00"), side="credit", kind="sale") == Decimal("5.00")
    zero = run("journal_amount", Decimal("5.00"), side="debit", kind="sale")
    assert str(zero) == "0.00"
    with pytest.raises(TransformError, match="posts no journal line"):
        run("journal_amount", Decimal("5.00"), side="credit", kind="authorization")


def test_negate_and_absolute():
    assert run("negate", Decimal("2.50")) == Decimal("-2.50")
    assert run("absolute", Decimal("-2.50")) == Decimal("2.50")


# Names and addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Steve Smith", ("Steve", "", "Smith")),
        ("Steve A. Smith", ("Steve", "A.", "Smith")),
        ("  Mary  Ann  van Dyke ", ("Mary", "Ann van", "Dyke")),
        ("Smith, Steve A.", ("Steve", "A.", "Smith")),
        ("Madonna", ("Madonna", "", "")),
    ],
)
def test_split_name(name: str, parts: tuple[str, str, str]):
    assert tuple(run("split_name", name, part=p) for p in ("first", "middle", "last")) == parts


@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=8), min_size=2, max_size=4))
def test_join_of_split_name_gives_the_name_back(words: list[str]):
    name = " ".join(words)
    parts = [run("split_name", name, part=p) for p in ("first", "middle", "last")]
    assert run("join_name", parts) == name


def test_join_name_and_party_type():
    assert run("join_name", ["Nathan", "", None, " Williams "]) == "Nathan Williams"
    assert run("party_type", True) == "Organization"
    assert run("party_type", False) == "Person"


def test_address_lines_join_and_split():
    assert run("join_lines", ["1 Main St", "", "Suite 5"]) == "1 Main St\nSuite 5"
    street = "12 Harbor Way\nBuilding C\n\nFloor 2"
    assert run("address_line", street, index=0) == "12 Harbor Way"
    assert run("address_line", street, index=1, rest=True) == "Building C, Floor 2"
    assert run("address_line", ["only line"], index=1) == ""


# Codes and text ---------------------------------------------------------------------------


def test_response_messages_with_own_wording_and_unknown_codes():
    assert run("response_message", "101") == "Approved."
    assert run("response_message", 102) == "Declined by the card issuer."
    own = {"102": "Karte abgelehnt"}
    assert run("response_message", "102", table=own) == "Karte abgelehnt"
    assert run("response_message", "999") == "Unrecognised PayTrace response code 999."
    assert run("error_message", "817") == (
        "Only a settled transaction can be refunded; void it instead."
    )


@given(st.text())
def test_display_value_escaping_is_reversible(segment: str):
    escaped = str(run("display_value", segment))
    unescaped, skip = [], False
    for position, char in enumerate(escaped):
        if skip:
            skip = False
            continue
        if char == "\\":
            unescaped.append(escaped[position + 1])
            skip = True
        else:
            unescaped.append(char)
    assert "".join(unescaped) == segment
    assert "-" not in escaped.replace("\\-", "")


def test_display_value_escapes_the_segment_delimiter():
    assert run("display_value", "US-001") == "US\\-001"


def test_text_transforms():
    assert run("upper", "usmf") == "USMF"
    assert run("trim", "  a   b ") == "a b"
    assert run("truncate", "abcdef", length=3) == "abc"
    assert run("prefix", "001", text="PT-") == "PT-001"
    assert run("replace", "a-b", old="-", new="") == "ab"
    assert run("to_text", True) == "true"
    assert run("yes_no", False) == "No"
    assert run("to_integer", "42") == 42
    assert run("to_decimal", "1.50") == Decimal("1.50")
    with pytest.raises(TransformError, match="not a whole number"):
        run("to_integer", Decimal("1.5"))
    with pytest.raises(TransformError, match="needs text"):
        run("upper", 5)


def test_lookup_with_and_without_default():
    table = {"sale": "S", "true": "T"}
    assert run("lookup", "sale", table=table) == "S"
    assert run("lookup", True, table=table) == "T"
    assert run("lookup", "void", table=table, default="?") == "?"
    with pytest.raises(TransformError, match="not in the lookup table"):
        run("lookup", "void", table=table)


def test_every_transform_documents_itself():
    assert all(definition.summary for definition in TRANSFORMS.values())
