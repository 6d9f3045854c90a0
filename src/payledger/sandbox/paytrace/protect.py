"""Test encryption for PayTrace Protect fields, so raw card numbers never reach payledger.

Real PayTrace encrypts card data in the browser (Protect.js, or RSA with the merchant's public
key). The sandbox cannot hold a PayTrace private key, so it ships this stand-in: tests and demos
call :func:`encrypt_field` / :func:`protect_nonce` to turn a test card into the
``encrypted_number`` / ``encrypted_csc`` / ``hpf_token`` + ``enc_key`` values the sandbox
opens. The cipher is a stdlib HMAC-SHA256 stream with an authentication tag: good enough to
prove opaque values round-trip, not a security boundary.

Example:
    >>> token = encrypt_field("4012000098765439")
    >>> decrypt_field(token)
    '4012000098765439'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

DEFAULT_PROTECT_KEY = "paytrace-sandbox-protect-key"
_NONCE_BYTES = 16
_TAG_BYTES = 16


@dataclass(frozen=True)
class ProtectNonce:
    """What Protect.js hands a browser after it captured a card: a one-time token and key."""

    hpf_token: str
    enc_key: str


def encrypt_field(plaintext: str, key: str = DEFAULT_PROTECT_KEY) -> str:
    """Encrypt one card field (number, CSC, swipe) as an opaque base64 string."""
    secret = _derive(key)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    cipher = _xor(plaintext.encode(), _keystream(secret, nonce, len(plaintext.encode())))
    tag = hmac.new(secret, nonce + cipher, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.b64encode(nonce + cipher + tag).decode()


def decrypt_field(token: str, key: str = DEFAULT_PROTECT_KEY) -> str | None:
    """The plaintext of ``token``, or ``None`` when it was not made by :func:`encrypt_field`."""
    try:
        raw = base64.b64decode(token.encode(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        return None
    secret = _derive(key)
    nonce, cipher, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    expected = hmac.new(secret, nonce + cipher, hashlib.sha256).digest()[:_TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        return None
    try:
        return _xor(cipher, _keystream(secret, nonce, len(cipher))).decode()
    except UnicodeDecodeError:
        return None


def protect_nonce(
    number: str,
    expiration_month: int | str,
    expiration_year: int | str,
    csc: str = "",
    key: str = DEFAULT_PROTECT_KEY,
) -> ProtectNonce:
    """A ``hpf_token`` + ``enc_key`` pair for ``/v1/transactions/sale/pt_protect``."""
    enc_key = secrets.token_urlsafe(24)
    card = {
        "number": number,
        "expiration_month": str(expiration_month),
        "expiration_year": str(expiration_year),
        "csc": csc,
    }
    return ProtectNonce(encrypt_field(json.dumps(card), key + enc_key), enc_key)


def open_nonce(
    hpf_token: str, enc_key: str, key: str = DEFAULT_PROTECT_KEY
) -> dict[str, str] | None:
    """The card fields inside a :class:`ProtectNonce`, or ``None`` when it does not open."""
    text = decrypt_field(hpf_token, key + enc_key)
    if text is None:
        return None
    try:
        card = json.loads(text)
    except ValueError:
        return None
    return {k: str(v) for k, v in card.items()} if isinstance(card, dict) else None


def _derive(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _keystream(secret: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    stream = b"".join(
        hmac.new(secret, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
        for i in range(blocks)
    )
    return stream[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))
