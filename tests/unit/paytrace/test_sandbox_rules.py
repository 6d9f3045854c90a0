"""Sandbox building blocks: card checks, masking, AVS, Protect encryption, schedules, settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from payledger.sandbox.paytrace import (
    AddressOnFile,
    PayTraceSandboxSettings,
    decrypt_field,
    encrypt_field,
    protect_nonce,
    sign,
)
from payledger.sandbox.paytrace.cards import Card, avs_response, luhn_ok, validated_card
from payledger.sandbox.paytrace.checks import routing_ok
from payledger.sandbox.paytrace.clock import SandboxClock, pacific_text
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.protect import open_nonce
from payledger.sandbox.paytrace.recurring import following_date

TODAY = date(2026, 3, 24)


@pytest.mark.parametrize(
    "number",
    [
        "4012000098765439",
        "5499740000000057",
        "6011000993026909",
        "371449635392376",
        "4111111111111111",
    ],
)
def test_test_cards_pass_luhn(number):
    assert luhn_ok(number)


@pytest.mark.parametrize("number", ["4012000098765430", "4111", "41111111111111112222", "abc"])
def test_bad_numbers_fail_luhn(number):
    assert not luhn_ok(number)


@pytest.mark.parametrize(
    ("month", "year", "codes"),
    [
        ("12", "2026", []),
        (3, 26, []),
        ("14", "2026", [43]),
        ("2", "2026", [9104]),
        ("1", "2025", [9104]),
        ("x", "2030", [43]),
        ("5", "", [9104]),
    ],
)
def test_expiry_rules(month, year, codes):
    if not codes:
        assert validated_card("4012000098765439", month, year, TODAY).expiration_month
        return
    with pytest.raises(VendorErrors) as refused:
        validated_card("4012000098765439", month, year, TODAY)
    assert list(refused.value.errors) == codes


def test_masks_and_brands():
    amex = Card("371449635392376", 1, 2030)
    assert (amex.brand, amex.masked, amex.export_mask()) == (
        "AMEX",
        "xxxxxxxxxxx2376",
        "***********2376",
    )
    assert Card("5454545454545454", 1, 2030).export_mask(include_bin=True) == "545454******5454"


@pytest.mark.parametrize(
    ("billing", "expected"),
    [
        ({}, "Address Unavailable"),
        ({"street_address": "100 Other Rd", "zip": "99201-1234"}, "Full Exact Match"),
        ({"street_address": "1 Main St."}, "No Match"),
    ],
)
def test_avs_uses_street_number_and_zip5(billing, expected):
    assert avs_response(billing, AddressOnFile()) == expected


def test_protect_fields_round_trip_and_reject_tampering():
    token = encrypt_field("4012000098765439")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert decrypt_field(token) == "4012000098765439"
    assert "4012000098765439" not in token and len(token) > 40
    assert decrypt_field(tampered) is None
    assert decrypt_field("not base64!") is None
    assert decrypt_field(token, key="another merchant") is None


def test_protect_nonce_needs_its_enc_key():
    nonce = protect_nonce("5454545454545454", 11, 2028, csc="999")
    assert open_nonce(nonce.hpf_token, nonce.enc_key) == {
        "number": "5454545454545454",
        "expiration_month": "11",
        "expiration_year": "2028",
        "csc": "999",
    }
    assert open_nonce(nonce.hpf_token, "wrong") is None


def test_aba_routing_checksum():
    assert routing_ok("325070760") and not routing_ok("325070761") and not routing_ok("12")


@pytest.mark.parametrize(
    ("current", "frequency", "anchor", "expected"),
    [
        (date(2026, 1, 31), "3", 31, date(2026, 2, 28)),  # monthly clamps to month end
        (date(2026, 2, 28), "3", 31, date(2026, 3, 31)),  # and returns to the anchor day
        (date(2026, 1, 15), "1", 15, date(2027, 1, 15)),
        (date(2026, 1, 15), "8", 15, date(2026, 7, 15)),
        (date(2026, 1, 15), "A", 15, date(2026, 5, 15)),
        (date(2026, 11, 15), "2", 15, date(2027, 2, 15)),
        (date(2026, 1, 15), "9", 15, date(2026, 3, 15)),
        (date(2026, 1, 1), "4", 1, date(2026, 1, 15)),
        (date(2026, 1, 1), "7", 1, date(2026, 1, 15)),
        (date(2026, 1, 15), "7", 1, date(2026, 2, 1)),
        (date(2026, 1, 1), "5", 1, date(2026, 1, 8)),
        (date(2026, 12, 31), "6", 31, date(2027, 1, 1)),
    ],
)
def test_recurring_frequencies(current, frequency, anchor, expected):
    assert following_date(current, frequency, anchor) == expected


def test_at_most_six_discretionary_fields():
    PayTraceSandboxSettings(discretionary_fields=tuple("abcdef"))
    with pytest.raises(ValueError, match="at most 6"):
        PayTraceSandboxSettings(discretionary_fields=tuple("abcdefg"))


def test_clock_moves_only_forward_and_writes_pacific_text():
    clock = SandboxClock(datetime(2026, 7, 4, 19, 0, 5, tzinfo=UTC))
    clock.advance(3600)
    assert pacific_text(clock.now()) == "7/4/2026 1:00:05 PM"
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_standard_webhooks_signature_matches_the_reference_example():
    # Example from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
