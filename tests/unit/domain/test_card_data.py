"""The card-data detector catches every test card and leaves business numbers alone."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain.card_data import (
    find_card_data,
    find_card_numbers,
    luhn_valid,
    redact_card_numbers,
)

# Every test card in reference/paytrace-api.md, plus the brand canaries from reliability.md.
TEST_CARDS = [
    "4012000098765439", "5499740000000057", "6011000993026909", "371449635392376",
    "4111111111111111", "5454545454545454", "4012881888818888", "5555555555554444",
    "378282246310005", "6011111111111117", "3530111333300000", "2223000048400011",
    "36227206271667", "4222222222222",
]  # fmt: skip

NOT_CARDS = [
    "ORD-000012345678",  # order number
    "1234567890123456",  # 16 digits, no brand prefix
    "4111111111111112",  # Visa prefix, fails Luhn
    "123.45", "1000000.00",  # amounts
    "2026-11-26T04:02:11Z", "20261126040211",  # timestamps
    "1732593731000",  # epoch milliseconds
    "550e8400-e29b-41d4-a716-446655440000",  # UUID
    "+1 (206) 555-0100",  # phone
    "US-001234",  # D365 customer account
]  # fmt: skip


@pytest.mark.parametrize("card", TEST_CARDS)
def test_every_test_card_is_found(card):
    assert find_card_numbers(card) == [card]


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005"]
)
def test_cards_split_by_spaces_or_dashes_are_found(card):
    assert find_card_numbers(f"card: {card}.")


def test_cards_in_unicode_digits_are_found():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "4111111111111111")
    assert find_card_numbers(fullwidth) == ["4111111111111111"]


@pytest.mark.parametrize("text", NOT_CARDS)
def test_business_numbers_are_not_mistaken_for_cards(text):
    assert find_card_numbers(text) == []


@pytest.mark.parametrize(
    "key",
    # Random UUIDs holding a digit run with a brand prefix that passes Luhn (one in ~3,000).
    ["d69a3895-2f40-4615-8792-183c7d8214b3", "28b95620-a565-4476-8144-04eba5c58162"],
)
def test_a_uuid_is_never_a_card_even_when_its_digits_would_pass(key):
    assert find_card_numbers(f"Idempotency-Key: {key}") == []
    assert redact_card_numbers(f"key {key} and 4111111111111111") == (
        f"key {key} and [card ****1111]"
    )


@given(st.uuids())
def test_no_uuid_is_mistaken_for_a_card(key):
    assert find_card_numbers(str(key)) == find_card_numbers(str(key).upper()) == []


def test_digits_inside_a_longer_number_are_not_a_card():
    assert find_card_numbers("41111111111111110") == []


def test_redaction_keeps_the_last_four_digits_only():
    assert (
        redact_card_numbers("paid with 5454545454545454 today") == "paid with [card ****5454] today"
    )
    assert redact_card_numbers("order 1234567890123456") == "order 1234567890123456"


def test_payload_paths_name_where_card_data_sits():
    payload = {
        "customer": {"name": "Ada", "notes": ["ok", "call 4012000098765439"]},
        "credit_card": {"cvv": "999"},
        "invoice": "INV-001",
        "amount": 4111111111111111,
    }
    assert find_card_data(payload) == ["$.customer.notes[1]", "$.credit_card.cvv", "$.amount"]


def test_track_data_is_card_data():
    assert find_card_data({"swipe": "%B4111111111111111^DOE/JOHN^2812101"}) == ["$.swipe"]


def test_security_code_fields_are_refused_only_when_filled():
    assert find_card_data({"csc": ""}) == []
    assert find_card_data({"CSC": "123"}) == ["$.CSC"]


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12)
)
documents = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
separators = st.sampled_from(["", " ", "-"])


def _bury(document, text, path):
    if not path:
        return text
    if isinstance(document, dict):
        return {**document, "nested": _bury(document.get("nested"), text, path[1:])}
    if isinstance(document, list):
        return [*document, _bury(None, text, path[1:])]
    return {"nested": _bury(None, text, path[1:])}


@given(
    document=documents,
    card=st.sampled_from(TEST_CARDS),
    separator=separators,
    depth=st.integers(0, 5),
    prefix=st.text(alphabet="abc :/", max_size=5),
)
def test_a_card_buried_anywhere_in_json_is_found(document, card, separator, depth, prefix):
    groups = [card[i : i + 4] for i in range(0, len(card), 4)]
    text = prefix + separator.join(groups)
    buried = _bury(document, text, [None] * depth)
    assert find_card_data(json.loads(json.dumps(buried)))


@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_a_digit_string_is_found_only_if_it_passes_luhn(digits):
    if find_card_numbers(digits):
        assert luhn_valid(digits)
