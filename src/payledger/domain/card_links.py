"""Signed, expiring links to the customer's card-update page.

A link token is ``<case id>z<expiry, unix seconds>z<nonce>z<signature>``: the signature is
HMAC-SHA256 over the first three parts with a key only payledger holds, so a token cannot be
made or altered without the key; the expiry ends it; the nonce names the one database row that
makes it single-use (consumed when the card is updated). Written with the standard library's
``hmac`` and ``secrets`` because the format is four fields: a JWT library would bring
algorithm negotiation (``alg: none``) this does not need. The nonce and signature are written
in the letters ``a``-``p`` (one per half byte) and the fields are joined by ``z``, so no run of
digits in a link can look like a card number to the inbound guard.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from payledger.domain.errors import DomainError

_NONCE_BYTES = 16


class LinkInvalid(DomainError):
    """The link was not made by payledger, or was altered."""

    code = "link_invalid"


class LinkExpired(DomainError):
    """The link's lifetime is over."""

    code = "link_expired"


@dataclass(frozen=True)
class CardLink:
    """What a link token carries: the case, when it stops working, and its single-use nonce."""

    case_id: int
    expires_at: datetime
    nonce: str


def new_link(case_id: int, expires_at: datetime) -> CardLink:
    return CardLink(case_id, expires_at, _letters(secrets.token_bytes(_NONCE_BYTES)))


def random_letters(nbytes: int) -> str:
    """``nbytes`` random bytes as lower-case letters: an identifier that never holds a run of
    digits the card-number detector (or a customer's mail filter) could read as a card."""
    return _letters(secrets.token_bytes(nbytes))


def _letters(raw: bytes) -> str:
    return "".join(chr(97 + (b >> 4)) + chr(97 + (b & 15)) for b in raw)


def _signature(body: str, key: bytes, purpose: str) -> str:
    return _letters(hmac.new(key, f"{purpose}:{body}".encode(), hashlib.sha256).digest())


def sign_link(link: CardLink, key: bytes) -> str:
    """The token of ``link`` (URL-safe: digits and lower-case letters)."""
    body = f"{link.case_id}z{int(link.expires_at.timestamp())}z{link.nonce}"
    return f"{body}z{_signature(body, key, 'card-link')}"


def read_link(token: str, key: bytes, now: datetime) -> CardLink:
    """The link ``token`` stands for.

    Raises:
        LinkInvalid: the token is malformed or its signature does not match.
        LinkExpired: it is genuine but its expiry has passed.
    """
    body, _, signature = token.rpartition("z")
    parts = body.split("z")
    expected = _signature(body, key, "card-link")
    if len(parts) != 3 or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise LinkInvalid("this link is not valid: it may have been copied incompletely")
    case_id, expiry, nonce = parts
    if not (case_id.isdigit() and expiry.isdigit() and nonce):
        raise LinkInvalid("this link is not valid: it may have been copied incompletely")
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    if now >= expires_at:
        raise LinkExpired("this link has expired")
    return CardLink(int(case_id), expires_at, nonce)


def form_token(token: str, key: bytes) -> str:
    """The anti-forgery value of the page ``token`` opens: only that page's form carries it."""
    return _signature(token, key, "card-form")


def same_form(submitted: str, token: str, key: bytes) -> bool:
    return hmac.compare_digest(submitted.encode(), form_token(token, key).encode())
