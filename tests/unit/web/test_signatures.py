"""Standard Webhooks signatures: what verifies and why anything else is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from payledger.web.signatures import SignatureRejected, secret_key, sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_700_000_000
BODY = b'{"type":"transaction.created","data":{"transaction_id":125391201}}'


def headers(signature: str | None = None, *, message_id="msg_1", at=NOW) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(at),
        "webhook-signature": signature or sign(SECRET, message_id, at, BODY),
    }


def check(given: dict[str, str], body: bytes = BODY, keys=None, tolerance=300):
    keys = keys if keys is not None else [secret_key(SECRET)]
    return verify(given, body, keys, now=NOW, tolerance_s=tolerance)


def reason(given: dict[str, str], **options) -> str:
    with pytest.raises(SignatureRejected) as refused:
        check(given, **options)
    return refused.value.reason


def test_the_signature_is_base64_hmac_sha256_of_id_timestamp_and_body():
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert sign(SECRET, "msg_1", NOW, BODY) == "v1," + base64.b64encode(expected).decode()


def test_a_correctly_signed_delivery_verifies():
    delivery = check(headers())
    assert (delivery.message_id, delivery.timestamp) == ("msg_1", NOW)


def test_any_of_several_signatures_and_any_of_several_secrets_may_match():
    other = "whsec_" + base64.b64encode(b"another key, 32 bytes long......").decode()
    several = f"v1a,ignoredEd25519= v1,{base64.b64encode(b'x' * 32).decode()} " + sign(
        SECRET, "msg_1", NOW, BODY
    )
    assert check(headers(several)).message_id == "msg_1"
    assert check(headers(), keys=[secret_key(other), secret_key(SECRET)]).message_id == "msg_1"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_header_is_required(missing):
    given = headers()
    del given[missing]
    assert reason(given) == "missing_header"


def test_a_tampered_body_or_another_secret_does_not_verify():
    assert reason(headers(), body=BODY.replace(b"201", b"202")) == "signature_mismatch"
    wrong = [secret_key("whsec_" + base64.b64encode(b"k" * 32).decode())]
    assert reason(headers(), keys=wrong) == "signature_mismatch"


def test_the_id_and_timestamp_are_signed_too():
    signed_for_other_id = sign(SECRET, "msg_2", NOW, BODY)
    assert reason(headers(signed_for_other_id)) == "signature_mismatch"
    signed_earlier = sign(SECRET, "msg_1", NOW - 10, BODY)
    assert reason(headers(signed_earlier)) == "signature_mismatch"


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_timestamps_outside_the_tolerance_are_refused_either_way(offset):
    at = NOW + offset
    assert reason(headers(sign(SECRET, "msg_1", at, BODY), at=at)) == "timestamp_out_of_tolerance"


def test_the_tolerance_is_configurable():
    at = NOW - 60
    stamped = headers(sign(SECRET, "msg_1", at, BODY), at=at)
    assert check(stamped).timestamp == at
    assert reason(stamped, tolerance=30) == "timestamp_out_of_tolerance"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-timestamp", "yesterday"),
        ("webhook-timestamp", "-5"),
        ("webhook-timestamp", "1.7e9"),
        ("webhook-id", "has spaces in it"),
        ("webhook-id", "x" * 201),
        ("webhook-signature", "v1"),
        ("webhook-signature", "v1,not*base64"),
        ("webhook-signature", "v2,c2lnbmF0dXJl"),
    ],
)
def test_malformed_headers_are_refused_not_crashed_on(header, value):
    given = headers()
    given[header] = value
    assert reason(given) == "malformed_header"


def test_secrets_must_be_base64():
    assert secret_key("whsec_" + base64.b64encode(b"abc").decode()) == b"abc"
    with pytest.raises(ValueError, match="base64"):
        secret_key("whsec_not base64!")
    with pytest.raises(ValueError, match="empty"):
        secret_key("whsec_")
