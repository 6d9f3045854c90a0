"""The inbound guard reads a request the way the routes will, and refuses what is hostile:
card data in any place and any encoding the app would accept, duplicate singleton headers,
JSON deep enough to exhaust the stack, non-finite numbers and lone surrogates."""

from __future__ import annotations

import codecs
import json

import pytest

from payledger.web.guard import MAX_JSON_DEPTH, inspect_request

PAN = "4111111111111111"
JSON = [(b"content-type", b"application/json")]
FORM = [(b"content-type", b"application/x-www-form-urlencoded")]


def refusal(body: bytes = b"", headers=JSON, query: bytes = b"", path: str = "/api/v1/orders"):
    found = inspect_request(path, headers, query, body)
    return (found.status, found.error) if found else None


def test_an_ordinary_request_passes():
    body = json.dumps({"order_id": "SO-1", "total": "25.00", "note": "call 555-0100"}).encode()
    assert refusal(body) is None
    assert refusal(b"a=1&b=two", FORM) is None
    assert refusal(b"", [], b"page=2&q=SO-000123") is None


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111 12/30",
        "4111 1111 1111 1111 123",
        "2 4111111111111111",
        "378282246310005 1234",
        "4111.1111.1111.1111",
        "4111_1111_1111_1111",
        "4111/1111/1111/1111",
        "4111\t1111\t1111\t1111",
        "4111  1111  1111  1111",
        "4111\u00a01111\u00a01111\u00a01111",
        "4111\u20131111\u20131111\u20131111",
        "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11",
    ],
)
def test_a_card_beside_other_digits_or_separators_is_refused_in_a_json_string(text):
    body = json.dumps({"customer": {"name": text}}, ensure_ascii=False).encode()
    assert refusal(body) == (422, "card_data_rejected")


def test_a_card_as_a_json_number_is_refused_whatever_its_notation():
    for number in (PAN, f"{PAN}.0", "4.111111111111111E15", f"{PAN}0e-1"):
        assert refusal(f'{{"amount": {number}}}'.encode()) == (422, "card_data_rejected"), number


def test_a_card_is_found_behind_json_escapes_and_in_keys():
    escaped = "".join(f"\\u{ord(c):04x}" for c in PAN)
    assert refusal(f'{{"note": "{escaped}"}}'.encode()) == (422, "card_data_rejected")
    assert refusal(f'{{"{PAN}": 1}}'.encode()) == (422, "card_data_rejected")


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF16_LE + json.dumps({"n": PAN}).encode("utf-16-le"),
        json.dumps({"n": PAN}).encode("utf-16-le"),
        json.dumps({"n": PAN}).encode("utf-16-be"),
        json.dumps({"n": PAN}).encode("utf-32"),
        codecs.BOM_UTF8 + json.dumps({"n": "x"}).encode(),
        b'{"n": "caf\xe9"}',
    ],
)
def test_a_body_that_is_not_plain_utf8_is_refused_with_415(encoded):
    assert refusal(encoded) == (415, "unsupported_encoding")


def test_a_declared_charset_other_than_utf8_is_refused():
    headers = [(b"content-type", b"application/json; charset=utf-16")]
    assert refusal(b'{"a": 1}', headers) == (415, "unsupported_encoding")
    headers = [(b"content-type", b"application/json; charset=UTF-8")]
    assert refusal(b'{"a": 1}', headers) is None


def test_every_copy_of_a_header_is_inspected_and_singletons_may_not_repeat():
    assert refusal(b"", [(b"x-note", b"ok"), (b"x-note", PAN.encode())]) == (
        422,
        "card_data_rejected",
    )
    twice = [(b"idempotency-key", b"k-1"), (b"idempotency-key", PAN.encode())]
    assert refusal(b"", twice) == (400, "duplicate_header")
    assert refusal(b"", [(b"Authorization", b"Bearer a"), (b"authorization", b"Bearer b")]) == (
        400,
        "duplicate_header",
    )


def test_a_header_in_utf8_with_fullwidth_digits_is_seen():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in PAN).encode("utf-8")
    assert refusal(b"", [(b"x-note", fullwidth)]) == (422, "card_data_rejected")


def test_query_form_multipart_path_and_plain_text_are_inspected():
    assert refusal(b"", [], b"ref=4111+1111+1111+1111") == (422, "card_data_rejected")
    assert refusal(b"", [], b"a=1&a=4111-1111-1111-1111") == (422, "card_data_rejected")
    assert refusal(b"note=x&note=4111%201111%201111%201111", FORM) == (422, "card_data_rejected")
    multipart = (
        b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
        + PAN.encode()
        + b"\r\n--XyZ--\r\n"
    )
    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ")]
    assert refusal(multipart, headers) == (422, "card_data_rejected")
    assert refusal(b"", [], path=f"/webhooks/paytrace/{PAN}") == (422, "card_data_rejected")
    assert refusal(f"card {PAN}".encode(), [(b"content-type", b"text/plain")]) == (
        422,
        "card_data_rejected",
    )


def test_json_nested_too_deep_is_refused_before_anything_recursive_runs():
    deep = b"[" * 10_000 + b"]" * 10_000
    assert refusal(deep) == (400, "too_deeply_nested")
    assert refusal(deep, [(b"content-type", b"text/plain")]) == (400, "too_deeply_nested")
    at_limit = b'{"a":' * (MAX_JSON_DEPTH - 1) + b"[]" + b"}" * (MAX_JSON_DEPTH - 1)
    assert refusal(at_limit) is None
    brackets_in_strings = json.dumps({"a": "[" * 1000}).encode()
    assert refusal(brackets_in_strings) is None


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1E+400"])
def test_non_finite_numbers_are_refused(number):
    assert refusal(f'{{"amount": {number}}}'.encode()) == (422, "non_finite_number")


def test_an_integer_too_long_to_convert_is_refused_not_crashed_on():
    assert refusal(b'{"n": ' + b"7" * 5000 + b"}") == (400, "malformed_json")


def test_a_lone_surrogate_is_refused_but_a_pair_is_a_character():
    assert refusal(b'{"name": "x\\ud800y"}') == (422, "invalid_unicode")
    assert refusal(b'{"\\udfff": 1}') == (422, "invalid_unicode")
    assert refusal(b'{"name": "\\ud83d\\ude00"}') is None


def test_a_body_that_is_not_json_is_left_to_the_route():
    assert refusal(b'{"a": ') is None
    assert refusal(b"plain words", [(b"content-type", b"text/plain")]) is None


def test_a_nul_is_refused_wherever_it_hides_as_postgresql_cannot_store_one():
    assert refusal(b'{"name": "a\\u0000b"}') == (422, "invalid_unicode")
    assert refusal(b'{"a\\u0000": 1}') == (422, "invalid_unicode")
    assert refusal(b"", [], b"q=a%00b") == (422, "invalid_unicode")
    assert refusal(b"note=a%00b", FORM) == (422, "invalid_unicode")
    assert refusal(b"", [], path="/console/payments/\x00") == (422, "invalid_unicode")
    assert refusal(b'{"name": "a\\\\u0000b"}') is None  # an escaped backslash, then text
