"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

The sender signs ``"{id}.{timestamp}.{raw body}"`` with HMAC-SHA256 under the key inside a
``whsec_<base64>`` secret and sends ``v1,<base64 signature>`` (several, space-separated, while
it rotates). Verification works on the raw bytes before anything parses them, compares in
constant time, accepts any of several secrets (rotation without a gap) and refuses timestamps
more than ``tolerance`` seconds away from now in either direction.

Written on the standard library rather than the ``standardwebhooks`` package: that package
hard-codes a 5-minute tolerance, takes one secret per instance, raises a bare ``ValueError``
(a 500 here) on a malformed signature entry, does not say which check failed, and pulls in
httpx, attrs, python-dateutil and Deprecated for these few lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret
_ID = re.compile(r"^[A-Za-z0-9._:~-]{1,200}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class SignatureRejected(Exception):
    """The delivery is not proven to come from the sender; ``reason`` says which check failed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class VerifiedDelivery:
    message_id: str
    timestamp: int


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_<base64>`` secret (plain base64 is accepted too).

    Raises:
        ValueError: the secret is not base64 or is empty.
    """
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret must be whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value a sender puts on one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[bytes],
    *,
    now: float,
    tolerance_s: float,
) -> VerifiedDelivery:
    """Check one delivery; ``headers`` are looked up by lower-case name.

    Raises:
        SignatureRejected: a header is missing or malformed, the timestamp is outside the
            tolerance, or no ``v1`` signature matches any of ``keys``.
    """
    message_id = _header(headers, "webhook-id")
    stamp_text = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not _ID.match(message_id):
        raise SignatureRejected(
            "malformed_header", "webhook-id must be 1-200 letters, digits or ._:~-"
        )
    if not _TIMESTAMP.match(stamp_text):
        raise SignatureRejected(
            "malformed_header", "webhook-timestamp must be whole seconds since the Unix epoch"
        )
    timestamp = int(stamp_text)
    if abs(now - timestamp) > tolerance_s:
        when = "in the past" if timestamp < now else "in the future"
        raise SignatureRejected(
            "timestamp_out_of_tolerance",
            f"webhook-timestamp is {abs(now - timestamp):.0f} s {when}; "
            f"at most {tolerance_s:.0f} s either way is accepted",
        )
    offered = _v1_signatures(signatures)
    signed = f"{message_id}.{timestamp}.".encode() + body
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return VerifiedDelivery(message_id, timestamp)
    raise SignatureRejected(
        "signature_mismatch", "no webhook-signature matches the body under any current secret"
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise SignatureRejected("missing_header", f"the {name} header is required")
    return value


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    if not found:
        raise SignatureRejected(
            "malformed_header", "webhook-signature holds no v1,<base64> signature"
        )
    return found
