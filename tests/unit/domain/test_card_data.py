"""The card-data detector catches every test card and leaves business numbers alone.

Generated cards in generated text are in test_card_data_properties.py; the false-positive rate
on realistic non-card data in test_card_data_corpus.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payledger.domain.card_data import (
    card_data_findings,
    find_card_data,
    find_card_numbers,
    holds_card_data,
    luhn_valid,
    masked_card_data,
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


@pytest.mark.parametrize(
    "digest",
    # SHA-256 hex digests (token hashes, body fingerprints) holding a brand-prefixed digit run
    # that passes Luhn: about one in 2,000.
    [
        "28d58b93ab4363c1a235aaf9e397430174926389316d06e4f22e6b476674de3b",
        "f062a7e8cdb7cd1a85208961af1d5186554232851841c359196e97f454f9084a",
    ],
)
def test_a_hex_digest_is_never_a_card_even_when_its_digits_would_pass(digest):
    assert find_card_numbers(digest.upper()) != []  # what the exemption is for
    assert find_card_numbers(f"token_hash={digest}") == []
    assert redact_card_numbers(f"{digest} 4111111111111111") == f"{digest} [card ****1111]"


@given(st.binary(min_size=1, max_size=64))
def test_no_sha256_or_sha1_digest_is_mistaken_for_a_card(data):
    for digest in (hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest()):
        assert find_card_numbers(digest) == []


def test_digits_inside_a_longer_number_are_not_a_card():
    assert find_card_numbers("41111111111111110") == []


# ---- issue #13: the attacker's cases -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("4111111111111111 12/30", "[card ****1111] 12/30"),
        ("4111 1111 1111 1111 123", "[card ****1111] 123"),
        ("2 4111111111111111", "2 [card ****1111]"),
        ("378282246310005 1234", "[card ****0005] 1234"),
        ("exp 12/30 cvv 123 card 5454 5454 5454 5454 zip 98101", (
            "exp 12/30 cvv 123 card [card ****5454] zip 98101"
        )),
        ("ids 17, 4111111111111111, 18", "ids 17, [card ****1111], 18"),
    ],
)  # fmt: skip
def test_a_card_is_found_whatever_digits_stand_beside_it(text, redacted):
    assert holds_card_data(text)
    assert redact_card_numbers(text) == redacted


@pytest.mark.parametrize(
    "separator",
    [" ", "-", ".", "_", "/", "\\", ":", "|", "+", "*", "'", '"', "#", "(", ")",
     "\t", "  ", "\u00a0", "\u2013", "\u2014", "\u3000", "\u200b", " - ", ". ",
     "\u00a0\u00a0\u00a0"],
)  # fmt: skip
def test_cards_are_found_whatever_separates_their_groups(separator):
    text = separator.join(["4111", "1111", "1111", "1111"])
    assert find_card_numbers(f"paid with {text} today") == ["4111111111111111"]
    assert redact_card_numbers(f"paid with {text} today") == "paid with [card ****1111] today"


def test_a_gap_of_four_separators_or_a_letter_ends_a_run():
    assert find_card_numbers("4111    1111    1111    1111") == []
    assert find_card_numbers("4111x1111x1111x1111") == []


def test_list_separators_part_numbers_instead_of_joining_them():
    assert find_card_numbers("ids 358996545, 790696829; 559674456") == []
    assert find_card_numbers("4111,1111,1111,1111") == []
    assert find_card_numbers("ids 17, 4111 1111 1111 1111; 18") == ["4111111111111111"]


def test_cards_in_any_unicode_digits_are_found_and_redacted_in_place():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "4111111111111111")
    arabic_indic = " ".join("".join(chr(0x0660 + int(d)) for d in g) for g in ["5454"] * 4)
    text = f"café {fullwidth} et {arabic_indic} fin"
    assert find_card_numbers(text) == ["4111111111111111", "5454545454545454"]
    assert redact_card_numbers(text) == "café [card ****1111] et [card ****5454] fin"


def test_a_reference_of_twenty_digits_or_more_is_no_card_but_a_card_beside_it_is():
    reference = "41111111111111110000000"
    assert find_card_numbers(reference) == []
    assert find_card_numbers(f"{reference} 4111111111111111") == ["4111111111111111"]
    assert redact_card_numbers(f"4111111111111111/{reference}") == f"[card ****1111]/{reference}"


def test_a_mask_that_would_form_a_new_card_with_the_digits_after_it_is_redacted_again():
    text = "5454545454545454 000000000000"  # "5454" + "000000000000" passes Luhn
    assert find_card_numbers(redact_card_numbers(text)) == []
    assert "5454545454545454" not in redact_card_numbers(text)


def test_text_built_to_chain_masks_without_end_is_dropped_whole():
    def completed(body: str) -> str:
        return next(body + check for check in "0123456789" if luhn_valid(body + check))

    # every mask's last four digits start a new card with the next group: "4xyz" + 12 digits
    links = [completed("400000000000400")]
    for _ in range(12):
        links.append(completed(links[-1][-4:] + "00000000" + "4" + "00")[4:])
    text = "log " + " ".join(links)
    assert redact_card_numbers(text) == "[redacted: card data]"


@pytest.mark.parametrize(
    "text",
    [
        "X-Forwarded-For: 71.30.39.202, 225.23.39.73, 252.134.156.179",
        "2023-03-16 22:32:15.804102+05:30",
        "2022-07-11T13:07:50.652462214+00:00",
        "08/30/2024 - 07/10/2025",
        "49,563.37 3,966,829.87 555.31 USD 957.11",
        "12.50, 3.75, 100.00, 4,500.00, 45.00",
        "DE14 4739 0975 3346 5155 40",
        "FR66 4921 2974 7809 4790 6467 689",
    ],
)
def test_addresses_timestamps_dates_amounts_and_ibans_are_not_cards(text):
    assert find_card_numbers(text) == []
    assert redact_card_numbers(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "10.0.0.1, 4111111111111111",
        "2026-05-08T12:34:56Z 4111 1111 1111 1111",
        "2026-05-08 12:34:56.4111111111111111",
        "12.50, 4111 1111 1111 1111.00",
        "DE89 3704 0044 0532 0130 00 4111111111111111",
        "key d69a3895-2f40-4615-8792-183c7d8214b3 4111111111111111",
    ],
)
def test_a_card_beside_an_address_timestamp_amount_iban_or_uuid_is_found(text):
    assert find_card_numbers(text) == ["4111111111111111"]


def test_few_digits_cost_nothing_and_plain_text_is_returned_unchanged():
    line = json.dumps({"event": "payment.posted", "id": 123456789, "note": "é" * 50})
    assert redact_card_numbers(line) is line


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
    assert redact_card_numbers("read ;4111111111111111=25121010000012345678? ok") == (
        "read [track data] ok"
    )
    assert redact_card_numbers("%B4111111111111111^DOE/JOHN^2812101000?") == "[track data]"


@pytest.mark.parametrize(
    "number",
    [
        4111111111111111.0,
        Decimal("4111111111111111E0"),
        Decimal("4.111111111111111E+15"),
        Decimal("4111111111111111.000"),
        -4111111111111111,
        Decimal("411111111111111100E-2"),
    ],
)
def test_a_card_number_as_a_json_number_is_found(number):
    assert find_card_data({"amount": number}) == ["$.amount"]


def test_a_card_number_sent_as_a_json_float_is_found_once_parsed():
    assert find_card_data(json.loads('{"amount": 4111111111111111.0}')) == ["$.amount"]
    assert find_card_data(json.loads('{"n": 4.111111111111111e15}')) == ["$.n"]


@pytest.mark.parametrize(
    "number",
    [Decimal("1E999999"), Decimal("4111111111111111E-999999"), 10**5000, float("inf"),
     float("nan"), Decimal("NaN"), Decimal("-Infinity"), True, 1.5e300],
    ids=["1E999999", "card-E-999999", "10**5000", "inf", "nan", "Decimal-NaN", "-Infinity",
         "True", "1.5e300"],
)  # fmt: skip
def test_huge_exponents_and_special_numbers_are_no_card_and_cost_nothing(number):
    started = time.perf_counter()
    assert find_card_data({"n": number}) == []
    assert time.perf_counter() - started < 0.05


def test_keys_are_inspected_whatever_their_type():
    assert find_card_data({"4111 1111 1111 1111": "x", 5454545454545454: 1, "ok": 2}) == [
        "$.<key>",
        "$.<key>",
    ]


def test_a_path_never_carries_the_card_number_of_a_key():
    payload = {"4111111111111111": {"note": "5454 5454 5454 5454"}}
    assert find_card_data(payload) == ["$.<key>", "$.<key>.note"]


def test_findings_say_what_each_place_holds_masked():
    payload = {
        "note": "card 4111111111111111 or 5454-5454-5454-5454",
        "card": {"CVV2": "123"},
        "swipe": ";4111111111111111=2512101",
    }
    assert [(f.path, f.what) for f in card_data_findings(payload)] == [
        ("$.note", "[card ****1111], [card ****5454]"),
        ("$.card.CVV2", "[field CVV2]"),
        ("$.swipe", "[track data]"),
    ]
    assert masked_card_data("x 378282246310005 y") == ["[card ****0005]"]


def test_a_deeply_nested_document_is_walked_without_recursion():
    document: object = "4111111111111111"
    for _ in range(50_000):
        document = [document]
    assert find_card_data(document) == ["$" + "[0]" * 50_000]


def test_security_code_fields_are_refused_only_when_filled():
    assert find_card_data({"csc": ""}) == []
    assert find_card_data({"CSC": "123"}) == ["$.CSC"]


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12)
)


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


documents = st.recursive(json_scalars, _containers, max_leaves=20)
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
