"""What the inbound guard refuses, decided from a request's raw parts before any route runs.

:func:`inspect_request` reads the path, every header copy, the query string and the body the
way the routes will read them, and returns a :class:`Refusal` for the first thing wrong:

* a body that is not UTF-8 (or holds NUL bytes, or declares another charset): 415
  ``unsupported_encoding``
  (FastAPI would otherwise decode UTF-16 or UTF-32 JSON the guard had read as bytes);
* a header that must appear once appearing twice: 400 ``duplicate_header`` (one layer reading
  the first copy and another the last is how a value slips past a check);
* JSON nested deeper than :data:`MAX_JSON_DEPTH`: 400 ``too_deeply_nested``, found by counting
  brackets before anything recursive runs;
* a JSON number that is not finite (``NaN``, ``Infinity``, ``1e999``) or an integer too long
  to convert: 422 ``non_finite_number`` / 400 ``malformed_json``;
* a lone UTF-16 surrogate or a NUL in a JSON string (``"\\ud800"``, ``"\\u0000"``), or a NUL
  in the path, the query or a form field: 422 ``invalid_unicode`` (PostgreSQL cannot store
  NUL, and no legitimate value holds one);
* card data anywhere (path, any header, query, JSON value or key, form or multipart field,
  plain text): 422 ``card_data_rejected`` naming the places, never the values.

A body that is not valid JSON is otherwise left to the route (which answers 400 or 422 in its
own words), after being scanned as form fields and as text.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

from payledger.domain.card_data import find_card_data

MAX_JSON_DEPTH = 64
"""Deeper JSON is refused: no payledger document nests more than a handful of levels."""

SINGLE_HEADERS = frozenset(
    {
        "authorization", "content-type", "content-length", "content-encoding", "host",
        "idempotency-key", "origin", "sec-fetch-site", "x-request-id",
        "webhook-id", "webhook-timestamp", "webhook-signature",
    }
)  # fmt: skip
"""Headers a request may carry only once (RFC 9110 §5.3: repeating a singleton is an error)."""

_CARD_DATA_DETAIL = (
    "card numbers, security codes and track data are never accepted; send a PayTrace Protect "
    "encrypted value or a vault customer id instead"
)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_ESCAPED_UNREPRESENTABLE = re.compile(r"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")
_UNREPRESENTABLE = re.compile("[\ud800-\udfff\x00]")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


@dataclass(frozen=True)
class Refusal:
    """A 4xx the guard answers with instead of passing the request on."""

    status: int
    error: str
    detail: str
    fields: list[str] = field(default_factory=list)
    """Where card data was found (``card_data_rejected``)."""
    problems: list[dict[str, str]] = field(default_factory=list)
    """Each unrepresentable value, as the API's refusals name them: ``{"field", "problem"}``."""

    def body(self) -> dict[str, Any]:
        document: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.fields:
            document["fields"] = self.fields
        if self.problems:
            document["problems"] = self.problems
        return document


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


def inspect_request(
    path: str, headers: Iterable[tuple[bytes, bytes]], query: bytes, body: bytes
) -> Refusal | None:
    """The refusal ``path``, ``headers`` (every copy, in order), ``query`` and ``body`` earn,
    or None when the request may go on to the routes."""
    pairs = [(name.decode("latin-1").lower(), value) for name, value in headers]
    try:
        _refuse_duplicates(pairs)
        _refuse_nul("path", path)
        places = find_card_data(path, path="path")
        for name, value in _header_texts(pairs):
            places += find_card_data({name: value}, path="header")
        for key, value in _form_pairs(query):
            _refuse_nul(f"query.{key}", key + value)
            places += find_card_data({key: value}, path="query")
        if body:
            places += _body_places(_content_type(pairs), body)
    except _Refused as refused:
        return refused.refusal
    if places:
        return Refusal(422, "card_data_rejected", _CARD_DATA_DETAIL, places)
    return None


def _refuse_duplicates(pairs: list[tuple[str, bytes]]) -> None:
    seen: set[str] = set()
    for name, _value in pairs:
        if name in SINGLE_HEADERS and name in seen:
            raise _Refused(
                Refusal(400, "duplicate_header", f"the {name} header may be sent only once")
            )
        seen.add(name)


def _refuse_nul(place: str, text: str) -> None:
    """A NUL character is in no legitimate value, and PostgreSQL cannot store one."""
    if "\x00" in text:
        raise _Refused(
            Refusal(
                422,
                "invalid_unicode",
                f"{place[:80]} holds a NUL character",
                problems=[{"field": place[:80], "problem": "holds a NUL character"}],
            )
        )


def _header_texts(pairs: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """Each header as (name, value); a value is read as Latin-1 (what HTTP says) and as UTF-8
    (what an application decoding it might do), so full-width digits are seen either way."""
    texts = []
    for name, value in pairs:
        latin = value.decode("latin-1")
        texts.append((name, latin))
        if not value.isascii():
            texts.append((name, value.decode("utf-8", errors="replace")))
    return texts


def _form_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    return parse_qsl(text, keep_blank_values=True)


def _content_type(pairs: list[tuple[str, bytes]]) -> Message:
    message = Message()
    for name, value in pairs:
        if name == "content-type":
            message["content-type"] = value.decode("latin-1")
    return message


def _body_places(content_type: Message, body: bytes) -> list[str]:
    text = _utf8_text(content_type, body)
    declared = content_type.get_content_type() if "content-type" in content_type else ""
    is_json = declared == "application/json" or declared.endswith("+json")
    if is_json or text.lstrip()[:1] in ("{", "["):
        document = _parsed_json(text)
        if document is not _NOT_JSON:
            return find_card_data(document, path="body")
    places = find_card_data(text, path="body")
    if not places and declared != "multipart/form-data":
        for key, value in _form_pairs(text):
            _refuse_nul(f"body.{key}", key + value)
            places += find_card_data({key: value}, path="body")
    return places


def _utf8_text(content_type: Message, body: bytes) -> str:
    """The body as text. UTF-16 and UTF-32 always hold NUL bytes (or a byte order mark that is
    not UTF-8), so refusing NULs and BOMs leaves JSON parsers nothing to auto-detect."""
    charset = (content_type.get_content_charset() or "utf-8").lower()
    try:
        if charset not in _UTF8_NAMES or body.startswith(codecs.BOM_UTF8) or b"\x00" in body:
            raise UnicodeError(charset)
        return body.decode("utf-8")
    except UnicodeError:
        raise _Refused(
            Refusal(
                415,
                "unsupported_encoding",
                "the body must be UTF-8 text, without a byte order mark or NUL bytes "
                "(RFC 8259 for JSON)",
            )
        ) from None


_NOT_JSON = object()


def _parsed_json(text: str) -> Any:
    """``text`` as JSON (numbers as exact ``Decimal``), or ``_NOT_JSON`` when it is not JSON."""
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise _Refused(
                Refusal(
                    400,
                    "too_deeply_nested",
                    f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                )
            )
    unrepresentable: list[_NonFinite] = []

    def constant(name: str) -> _NonFinite:
        unrepresentable.append(_NonFinite(name))
        return unrepresentable[-1]

    def number(text: str) -> Decimal | _NonFinite:
        exact = Decimal(text)
        # Beyond what any system here can hold (a float overflows past 1e308).
        return constant(text) if exact.adjusted() > 300 else exact

    try:
        document = json.loads(text, parse_float=number, parse_constant=constant)
    except json.JSONDecodeError:
        return _NOT_JSON
    except ValueError as exc:  # an integer too long to convert
        raise _Refused(
            Refusal(400, "malformed_json", f"the body is not acceptable JSON: {exc}")
        ) from None
    if unrepresentable or _ESCAPED_UNREPRESENTABLE.search(text):
        _refuse_unrepresentable(document)
    return document


class _NonFinite(str):
    """``NaN``, ``Infinity`` or a number beyond 1e300, kept as its text to name its place."""


def _refuse_unrepresentable(document: Any) -> None:
    """422 naming every non-finite number and every string or key with a lone surrogate."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[str, Any]] = [("body", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _NonFinite):
            problems.append({"field": path, "problem": "is not a finite number"})
        elif isinstance(node, str) and _UNREPRESENTABLE.search(node):
            problems.append({"field": path, "problem": "holds a NUL or a lone UTF-16 surrogate"})
        elif isinstance(node, dict):
            if any(_UNREPRESENTABLE.search(key) for key in node):
                problems.append(
                    {"field": path, "problem": "a key holds a NUL or a lone UTF-16 surrogate"}
                )
            stack += [(f"{path}.{key}", value) for key, value in node.items()]
        elif isinstance(node, list):
            stack += [(f"{path}.{index}", item) for index, item in enumerate(node)]
    if not problems:
        return
    problems.sort(key=lambda found: found["field"])
    if any("finite" in found["problem"] for found in problems):
        error, why = "non_finite_number", "JSON numbers must be finite and at most 1e300"
    else:
        error, why = "invalid_unicode", "NUL and lone UTF-16 surrogates are not accepted"
    fields = ", ".join(found["field"] for found in problems)
    raise _Refused(Refusal(422, error, f"{why}: {fields}", problems=problems))
