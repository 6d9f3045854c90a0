"""Console session cookies: a random session id, signed, and the CSRF token derived from it.

The cookie is ``<session id>.<signature>``, an HMAC-SHA256 (key from the vault) over the id.
Everything else about the session is kept on the server (:mod:`payledger.engine.
console_sessions`), so signing out ends it there; the signature lets forged or garbled cookies
be refused without asking the database. The forms' CSRF token is another HMAC of the id, so
it belongs to one session and needs no storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

SESSION_COOKIE = "payledger_console"
LOGIN_COOKIE = "payledger_console_login"
"""A one-time value the login form must echo (login CSRF), set when the form is shown."""
SESSION_KEY_SECRET = "console-session-key"  # noqa: S105 - a vault name, not a secret
"""The vault secret that signs session cookies (created on first sign-in)."""
SESSION_LIFETIME = timedelta(hours=8)
COOKIE_PATH = "/console"
_LONGEST_ID = 100


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(key: bytes, purpose: str, session_id: str) -> str:
    message = f"{purpose}:{session_id}".encode("ascii")
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def encode_session(session_id: str, key: bytes) -> str:
    return f"{session_id}.{_mac(key, 'session', session_id)}"


def decode_session(cookie: str, key: bytes) -> str | None:
    """The session id in ``cookie``; None when it is malformed or forged."""
    session_id, _, signature = cookie.partition(".")
    if not session_id or not signature or len(session_id) > _LONGEST_ID:
        return None
    if not session_id.isascii() or not signature.isascii():
        return None
    expected = _mac(key, "session", session_id)
    return session_id if hmac.compare_digest(expected, signature) else None


def csrf_token(session_id: str, key: bytes) -> str:
    """The token the session's forms carry."""
    return _mac(key, "csrf", session_id)


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted CSRF token with the expected one."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())
