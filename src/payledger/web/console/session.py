"""Console sessions: a signed cookie naming who signed in, with which token and powers.

The cookie holds no secret: an HMAC-SHA256 signature (key from the vault) over a small JSON
document with the user's name, the token id it was opened with, whether it may operate, an
expiry and the session's CSRF token. Nothing can be changed in it without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "payledger_console"
LOGIN_COOKIE = "payledger_console_login"
"""A one-time value the login form must echo (login CSRF), set when the form is shown."""
SESSION_KEY_SECRET = "console-session-key"  # noqa: S105 - a vault name, not a secret
"""The vault secret that signs session cookies (created on first sign-in)."""
SESSION_LIFETIME = timedelta(hours=8)
COOKIE_PATH = "/console"


@dataclass(frozen=True)
class Session:
    """Who is signed in to the console."""

    user: str
    token_id: int
    can_operate: bool
    expires_at: datetime
    csrf: str

    @classmethod
    def open(cls, user: str, token_id: int, *, can_operate: bool, now: datetime) -> Session:
        return cls(user, token_id, can_operate, now + SESSION_LIFETIME, secrets.token_urlsafe(24))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def encode_session(session: Session, key: bytes) -> str:
    document = {
        "u": session.user,
        "t": session.token_id,
        "o": session.can_operate,
        "e": int(session.expires_at.timestamp()),
        "c": session.csrf,
    }
    body = _b64(json.dumps(document, separators=(",", ":")).encode())
    return f"{body}.{_signature(key, body)}"


def decode_session(cookie: str, key: bytes, *, now: datetime) -> Session | None:
    """The session in ``cookie``; None when it is malformed, forged or expired."""
    body, _, signature = cookie.partition(".")
    if not body or not signature:
        return None
    try:
        if not hmac.compare_digest(_signature(key, body), signature):
            return None
        document = json.loads(_unb64(body))
        expires_at = datetime.fromtimestamp(int(document["e"]), tz=now.tzinfo)
        session = Session(
            str(document["u"]),
            int(document["t"]),
            document["o"] is True,
            expires_at,
            str(document["c"]),
        )
    except (ValueError, KeyError, TypeError, UnicodeError):
        return None
    return session if session.expires_at > now else None


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())
