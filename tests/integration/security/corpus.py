"""A hostile corpus: what an attacker sends to every route of the service, class by class.

Each :class:`Probe` is one request. ``carries_card`` probes hold a canary card number somewhere
(next to other digits, behind odd separators, in other encodings, as a JSON number, in a
duplicate header...); none of them may be accepted, and no canary may be found anywhere
afterwards. Every probe, card or not, must be answered below 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

CANARIES = ("4111111111111111", "378282246310005", "5454545454545454", "6011000990139424")
"""Test card numbers no legitimate request in this test carries (the Protect card is another)."""


def card_texts(pan: str) -> list[str]:
    """``pan`` the ways the probe of issue 13 slipped it past the old guard, and more."""
    groups = [pan[:4], pan[4:8], pan[8:12], pan[12:]]
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in pan)
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in pan)
    return [
        f"{pan} 12/30",
        f"{' '.join(groups)} 123",
        f"2 {pan}",
        f"{pan} 1234",
        ".".join(groups),
        "_".join(groups),
        "/".join(groups),
        "\t".join(groups),
        "  ".join(groups),
        "\u00a0".join(groups),
        "\u2013".join(groups),
        fullwidth,
        arabic_indic,
        f"ref:{pan}.",
    ]


@dataclass(frozen=True)
class Probe:
    """One hostile request: ``options`` are httpx request keywords."""

    what: str
    method: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    carries_card: bool = False
    needs: str = "api"
    """Who sends it: ``api`` (a shop's token), ``console`` (a signed-in operator), ``anon``."""


Templates = dict[str, Callable[[], dict[str, Any]]]
"""Per JSON route (orders, payments, ...), a valid body to spoil."""

HUGE_IDS = ("99999999999999999999", "9223372036854775808", "18446744073709551616", "-1", "0")
LENIENT_AMOUNTS: tuple[Any, ...] = (
    "1E-2", " 1.00", "1.00 ", "\uff11.\uff10\uff10", "+1.00", "-1.00", "1.001", "1,00", "",
    "0x10", "NaN", "Infinity", "1e3", True, None, [], {}, "\u0661\u0660\u0660",
)  # fmt: skip
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1E+400", "7" * 5000)
BOOLEANS: tuple[Any, ...] = ("yes", "true", 1, "1", 0, None)
ODATA_HOSTILE = ("US-00*", "O'Brien", "US-001' or '1' eq '1", "a%20b", "US 001", "US-001)")


def _body(document: Any) -> dict[str, Any]:
    return {"content": json.dumps(document, ensure_ascii=False).encode(), "headers": _JSON}


_JSON = {"content-type": "application/json"}


def _json_text(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": _JSON}


def probes(templates: Templates, ids: dict[str, str]) -> Iterator[Probe]:
    """The whole corpus; ``ids`` name existing things (a payment id, an order id, a run)."""
    yield from _cards_in_bodies(templates)
    yield from _cards_elsewhere(ids)
    yield from _encodings(templates)
    yield from _structure(templates)
    yield from _numbers(templates, ids)
    yield from _ids(ids)
    yield from _headers(templates)
    yield from _console()
    yield from _odata(templates)


def _spoiled(template: dict[str, Any], place: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(template))
    node = document
    for step in place[:-1]:
        node = node[step]
    node[place[-1]] = value
    return document


def _with_raw_number(template: dict[str, Any], place: tuple[Any, ...], written: str) -> str:
    """``template`` as JSON text with the number ``written`` (as sent, e.g. ``NaN`` or
    ``4111111111111111.0``) at ``place``: what ``json.dumps`` cannot write."""
    marker = "__raw_number__"
    return json.dumps(_spoiled(template, place, marker)).replace(f'"{marker}"', written)


CARD_PLACES: dict[str, list[tuple[Any, ...]]] = {
    "orders": [("customer", "name"), ("lines", 0, "description"), ("shipping_address", "city")],
    "payments": [("invoice",), ("payment_method", "customer_id")],
    "business_events": [("InvoiceAccount",), ("Note",)],
    "paytrace_webhook": [("data", "note")],
    "subscriptions": [("customer_account",), ("plan", "description"), ("vault_customer_id",)],
    "subscription_change": [("plan", "description"), ("plan", "currency")],
}


def _path_of(route: str) -> str:
    return {
        "orders": "/api/v1/orders",
        "payments": "/api/v1/payments",
        "business_events": "/webhooks/d365/business-events",
        "paytrace_webhook": "/webhooks/paytrace",
        "subscriptions": "/api/v1/subscriptions",
        "subscription_change": "/api/v1/subscriptions/1",
    }[route]


def _method_of(route: str) -> str:
    return "PATCH" if route == "subscription_change" else "POST"


def _cards_in_bodies(templates: Templates) -> Iterator[Probe]:
    for index, (route, places) in enumerate(CARD_PLACES.items()):
        for number, text in enumerate(card_texts(CANARIES[index % len(CANARIES)])):
            place = places[number % len(places)]
            document = _spoiled(templates[route](), place, text)
            yield Probe(
                f"card {text!r} in {route} {place}",
                _method_of(route),
                _path_of(route),
                _body(document),
                carries_card=True,
            )
    for pan in CANARIES:
        for route, place in (
            ("orders", ("total",)),
            ("payments", ("amount",)),
            ("subscriptions", ("plan", "amount")),
        ):
            for written in (pan, f"{pan}.0", f"{pan[0]}.{pan[1:]}E{len(pan) - 1}"):
                text = _with_raw_number(templates[route](), place, written)
                yield Probe(
                    f"card as JSON number {written} in {route}",
                    "POST",
                    _path_of(route),
                    _json_text(text),
                    carries_card=True,
                )


def _cards_elsewhere(ids: dict[str, str]) -> Iterator[Probe]:
    for index, text in enumerate(card_texts(CANARIES[1])):
        yield Probe(
            f"card in a query {text!r}",
            "GET",
            f"/api/v1/orders/{ids['order']}",
            {"params": {"ref": text}},
            carries_card=True,
        )
        yield Probe(
            f"card in the path {text!r}",
            "GET",
            f"/api/v1/orders/{quote(text, safe='')}",
            carries_card=True,
        )
        yield Probe(
            f"card in a header {text!r}",
            "GET",
            "/healthz",
            {"headers": {"x-note": text.encode().decode("latin-1")}},
            carries_card=True,
            needs="anon",
        )
        if index == 0:
            for nul in ("a\x00b", "\x00"):
                yield Probe(
                    f"NUL in a console search {nul!r}", "GET", "/console/payments",
                    {"params": {"q": nul}}, needs="console",
                )  # fmt: skip
                yield Probe(
                    f"NUL in a console form {nul!r}", "POST", "/console/dead-letters/replay",
                    {"data": {"reference": nul, "csrf": "{csrf}"}}, needs="console",
                )  # fmt: skip
        yield Probe(
            f"card in a console search {text!r}",
            "GET",
            "/console/payments",
            {"params": {"q": text}},
            carries_card=True,
            needs="console",
        )
        yield Probe(
            f"card in a console form field {text!r}",
            "POST",
            "/console/dead-letters/replay",
            {"data": {"reference": text, "csrf": "{csrf}"}},
            carries_card=True,
            needs="console",
        )
        if index % 2 == 0:
            yield Probe(
                f"card as a webhook delivery id {text!r}",
                "POST",
                "/webhooks/paytrace",
                _json_text('{"type":"transaction.created","data":{"transaction_id":1}}')
                | {"headers": {**_JSON, "webhook-id": text.encode().decode("latin-1")}},
                carries_card=True,
                needs="anon",
            )


def _encodings(templates: Templates) -> Iterator[Probe]:
    encodings = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "utf-8-sig")
    routes = ("orders", "payments", "business_events", "paytrace_webhook", "subscriptions")
    for route in routes:
        document = _spoiled(templates[route](), CARD_PLACES[route][0], CANARIES[2])
        text = json.dumps(document)
        for encoding in encodings:
            yield Probe(
                f"{route} body in {encoding} with a card",
                "POST",
                _path_of(route),
                {"content": text.encode(encoding), "headers": _JSON},
                carries_card=True,
            )
        yield Probe(
            f"{route} body declared latin-1",
            "POST",
            _path_of(route),
            {
                "content": text.encode(),
                "headers": {"content-type": "application/json; charset=latin-1"},
            },
            carries_card=True,
        )


POST_ROUTES = (
    "/api/v1/orders",
    "/api/v1/payments",
    "/api/v1/payments/{payment}/capture",
    "/api/v1/payments/{payment}/refund",
    "/api/v1/payments/{payment}/void",
    "/webhooks/d365/business-events",
    "/webhooks/paytrace",
    "/console/login",
    "/console/logout",
    "/console/mapping",
    "/console/dead-letters/replay",
    "/api/v1/subscriptions",
    "/console/subscriptions/1/pause",
)
PATCH_ROUTES = ("/api/v1/subscriptions/1",)
GET_ROUTES = (
    "/healthz", "/readyz", "/metrics", "/openapi.json", "/api/v1/orders/{order}",
    "/api/v1/payments/{payment}", "/api/v1/reconciliations", "/console/", "/console/payments",
    "/api/v1/subscriptions", "/api/v1/subscriptions/{subscription}", "/console/subscriptions",
    "/console/subscriptions/1",
)  # fmt: skip


def _structure(templates: Templates) -> Iterator[Probe]:
    deep_array = "[" * 10_000 + "]" * 10_000
    deep_object = '{"a":' * 10_000 + "1" + "}" * 10_000
    lone = (
        '{"name": "\\ud800"}',
        '{"\\udfff": 1}',
        '{"a": ["x\\udbff"]}',
        '{"name": "a\\u0000b"}',
        '{"\\u0000": 1}',
    )
    for path in POST_ROUTES + PATCH_ROUTES + GET_ROUTES:
        method = "POST" if path in POST_ROUTES else "PATCH" if path in PATCH_ROUTES else "GET"
        needs = "console" if path.startswith("/console") else "api"
        for what, text in (("10,000 deep array", deep_array), ("10,000 deep object", deep_object)):
            yield Probe(f"{what} to {path}", method, path, _json_text(text), needs=needs)
        if method in ("POST", "PATCH"):
            for text in lone:
                yield Probe(
                    f"lone surrogate {text} to {path}", method, path, _json_text(text), needs=needs
                )
            for top in ("[]", '"text"', "1", "null", "true", "{", '{"a":1}{"b":2}'):
                yield Probe(
                    f"top-level {top} to {path}", method, path, _json_text(top), needs=needs
                )
            yield Probe(
                f"2 MB body to {path}",
                method,
                path,
                {"content": b'{"a":"' + b"x" * 2_000_000 + b'"}', "headers": _JSON},
                needs=needs,
            )


def _numbers(templates: Templates, ids: dict[str, str]) -> Iterator[Probe]:
    money_places = {
        "orders": [("total",), ("lines", 0, "unit_price"), ("tax",)],
        "payments": [("amount",)],
        "subscriptions": [("plan", "amount")],
        "subscription_change": [("plan", "amount")],
    }
    for route, places in money_places.items():
        for place in places:
            for amount in LENIENT_AMOUNTS:
                document = _spoiled(templates[route](), place, amount)
                yield Probe(
                    f"amount {amount!r} at {route} {place}",
                    _method_of(route),
                    _path_of(route),
                    _body(document),
                )
            for written in NON_FINITE:
                text = _with_raw_number(templates[route](), place, written)
                yield Probe(
                    f"number {written[:12]} at {route} {place}",
                    _method_of(route),
                    _path_of(route),
                    _json_text(text),
                )
        for written in (*NON_FINITE, "1.5", "0.1e1"):
            for follow_up in ("capture", "refund"):
                text = f'{{"amount": {written}}}'
                path = f"/api/v1/payments/{ids['payment']}/{follow_up}"
                yield Probe(f"{follow_up} amount {written[:12]}", "POST", path, _json_text(text))
    for flag in BOOLEANS:
        document = _spoiled(templates["payments"](), ("capture",), flag)
        yield Probe(f"capture {flag!r}", "POST", "/api/v1/payments", _body(document))
    for written in NON_FINITE:
        text = _with_raw_number(templates["business_events"](), ("ControlNumber",), written)
        yield Probe(
            f"business event ControlNumber {written[:12]}",
            "POST",
            _path_of("business_events"),
            _json_text(text),
        )


def _ids(ids: dict[str, str]) -> Iterator[Probe]:
    for huge in (*HUGE_IDS, "1e5", "0x10", "%00", "..%2f..%2fetc"):
        for path, needs in (
            (f"/console/reconciliation/{huge}", "console"),
            (f"/console/reconciliation/{huge}/report.csv", "console"),
            (f"/console/payments/{huge}", "console"),
            (f"/api/v1/reconciliations/{huge}", "api"),
            (f"/api/v1/reconciliations/{huge}/report.html", "api"),
            (f"/api/v1/payments/{huge}", "api"),
            (f"/api/v1/orders/{huge}", "api"),
            (f"/api/v1/subscriptions/{huge}", "api"),
            (f"/console/subscriptions/{huge}", "console"),
        ):
            yield Probe(f"id {huge} at {path}", "GET", path, needs=needs)
        for follow_up in ("capture", "void", "refund"):
            yield Probe(
                f"{follow_up} of payment {huge}",
                "POST",
                f"/api/v1/payments/{huge}/{follow_up}",
                _json_text("{}"),
            )
        yield Probe(
            f"change of subscription {huge}",
            "PATCH",
            f"/api/v1/subscriptions/{huge}",
            _json_text('{"status": "paused"}'),
        )
        yield Probe(
            f"console pause of subscription {huge}",
            "POST",
            f"/console/subscriptions/{huge}/pause",
            {"data": {"version": huge, "csrf": "{csrf}"}},
            needs="console",
        )
        yield Probe(
            f"replay of job {huge}",
            "POST",
            "/console/dead-letters/replay",
            {"data": {"job_id": huge, "csrf": "{csrf}"}},
            needs="console",
        )


def _headers(templates: Templates) -> Iterator[Probe]:
    body = json.dumps(templates["orders"]()).encode()
    pan = CANARIES[3]
    duplicated = [
        (
            "idempotency key twice, card second",
            [("idempotency-key", "k-dup-1"), ("idempotency-key", pan)],
            True,
        ),
        (
            "idempotency key twice, card first",
            [("idempotency-key", pan), ("idempotency-key", "k-dup-2")],
            True,
        ),
        ("idempotency key holding a card", [("idempotency-key", f"{pan} 1")], True),
        (
            "content-type twice",
            [("content-type", "application/json"), ("content-type", "text/plain")],
            False,
        ),
        ("authorization twice", [("authorization", "Bearer plt_nope")], False),
        ("content-length lying", [("content-length", "3")], False),
        ("idempotency key of 10,000 chars", [("idempotency-key", "k" * 10_000)], False),
        ("idempotency key with control chars", [("idempotency-key", "k\x01\x7f")], False),
    ]
    for what, extra, carries in duplicated:
        yield Probe(
            what,
            "POST",
            "/api/v1/orders",
            {"content": body, "headers": extra, "extra_headers": True},
            carries_card=carries,
        )
    for name in ("webhook-id", "webhook-signature", "webhook-timestamp"):
        hint = b'{"type":"transaction.created","data":{"transaction_id":1}}'
        yield Probe(
            f"{name} twice",
            "POST",
            "/webhooks/paytrace",
            {
                "content": hint,
                "headers": [("content-type", "application/json"), (name, "a"), (name, "b")],
                "extra_headers": True,
            },
            needs="anon",
        )


def _console() -> Iterator[Probe]:
    for path in (
        "/console/logout",
        "/console/dead-letters/replay",
        "/console/mapping",
        "/console/login",
        "/console/subscriptions/1/cancel",
    ):
        for headers in (
            {"origin": "https://evil.example"},
            {"sec-fetch-site": "cross-site"},
            {"sec-fetch-site": "same-site", "origin": "https://payledger.test.evil.example"},
            {"origin": "null"},
        ):
            yield Probe(
                f"cross-origin {headers} POST {path}",
                "POST",
                path,
                {"data": {"csrf": "{csrf}", "job_id": "1"}, "headers": headers},
                needs="console",
            )
        yield Probe(
            f"forged CSRF token at {path}",
            "POST",
            path,
            {"data": {"csrf": "forged"}},
            needs="console",
        )


def _odata(templates: Templates) -> Iterator[Probe]:
    for number, value in enumerate(ODATA_HOSTILE):
        document = templates["orders"]()
        document["customer"]["account"] = value
        yield Probe(f"customer account {value!r}", "POST", "/api/v1/orders", _body(document))
        event = _spoiled(templates["business_events"](), ("InvoiceId",), value)
        event["EventId"] = f"odata-{number}"
        yield Probe(
            f"business event InvoiceId {value!r}", "POST", _path_of("business_events"), _body(event)
        )
        payment = _spoiled(templates["payments"](), ("invoice",), value)
        yield Probe(f"payment invoice {value!r}", "POST", "/api/v1/payments", _body(payment))
