"""OAuth password grant (fact sheet §1.2): ``/oauth/token`` and bearer-token checks."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from payledger.sandbox.paytrace.records import AccessToken
from payledger.sandbox.paytrace.state import SandboxState

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
TOKEN_EXPIRED = "The access token expired"
TOKEN_INVALID = "The access token is invalid"


class OAuthFailure(Exception):
    """An OAuth-style error body: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def issue(state: SandboxState, at: datetime, fields: dict[str, Any]) -> dict[str, Any]:
    """Answer a token request; ``OAuthFailure`` for a wrong grant type or credentials."""
    settings = state.settings
    if str(fields.get("grant_type", "")) != "password":
        raise OAuthFailure(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            400,
        )
    user_ok = hmac.compare_digest(str(fields.get("username", "")), settings.username)
    password_ok = hmac.compare_digest(str(fields.get("password", "")), settings.password)
    if not (user_ok and password_ok):
        raise OAuthFailure("invalid_grant", INVALID_GRANT, settings.invalid_grant_status)
    value = f"{state.hex_token(14)}:{state.hex_token(18)}:{state.hex_token(32)}"
    lifetime = settings.token_lifetime_s
    state.tokens[value] = AccessToken(
        value, settings.username, at, at + timedelta(seconds=lifetime)
    )
    return {
        "access_token": value,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "created_at": int(at.timestamp()),
    }


def verify(state: SandboxState, at: datetime, authorization: str) -> AccessToken:
    """The token a ``Bearer`` header names; ``OAuthFailure("invalid_token")`` otherwise."""
    status = state.settings.invalid_token_status
    scheme, _, value = authorization.partition(" ")
    token = state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise OAuthFailure("invalid_token", TOKEN_INVALID, status)
    if at >= token.expires_at:
        raise OAuthFailure("invalid_token", TOKEN_EXPIRED, status)
    return token


def expire_all(state: SandboxState) -> int:
    """Make every issued token expired (control API); returns how many there were."""
    for token in state.tokens.values():
        token.expires_at = token.issued_at
    return len(state.tokens)
