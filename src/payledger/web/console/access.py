"""Who may use the console: sign-in with an API token, session cookies, CSRF, operator powers.

An operator signs in by pasting an API token (``payledger tokens create``). A token with the
``read`` scope may look; one with the ``operate`` scope may also replay dead letters. Signing
in opens a session on the server; the cookie names it, never the token. Every request looks
the session up with its token, so signing out, or revoking the token, ends it at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from payledger.adapters.vault import SecretNotFound
from payledger.bootstrap import Container
from payledger.domain.errors import ConfigError
from payledger.stores.api_clients import ApiClients, Scope
from payledger.stores.console_sessions import ConsoleSessions
from payledger.web.console.session import (
    SESSION_COOKIE,
    SESSION_KEY_SECRET,
    SESSION_LIFETIME,
    csrf_token,
    decode_session,
    same_token,
)
from payledger.web.deps import ContainerDep

VIEW_SCOPES = frozenset({Scope.READ, Scope.OPERATE})
"""Any of these lets a token sign in to the console."""
OPERATE_SCOPE = Scope.OPERATE
"""Needed to replay dead letters."""


class ConsoleProblem(Exception):
    """A console request that cannot be served; shown as an error page."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class LoginRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


@dataclass(frozen=True)
class ConsoleUser:
    """The operator behind a request."""

    name: str
    token_id: int
    can_operate: bool
    csrf: str


async def session_key(container: Container) -> bytes:
    """The key that signs session cookies, made and stored in the vault on first use."""
    try:
        try:
            value = await container.vault.get(SESSION_KEY_SECRET)
        except SecretNotFound:
            await container.vault.set(
                SESSION_KEY_SECRET, secrets.token_urlsafe(48), actor="console"
            )
            value = await container.vault.get(SESSION_KEY_SECRET)
    except ConfigError as exc:
        raise ConsoleProblem(503, "The vault cannot be read", str(exc)) from None
    return value.get_secret_value().encode()


async def sign_in(container: Container, token: str) -> str | None:
    """A new session's id for a valid token that may use the console, else None.

    Sessions that ended or expired are forgotten here, the only place that makes new ones.
    """
    sessions = ConsoleSessions(container.clock)
    async with container.database.transaction() as conn:
        client = await ApiClients(container.clock).authenticate(conn, token.strip())
        if client is None or not (client.scopes & VIEW_SCOPES):
            return None
        await sessions.prune(conn)
        return await sessions.open(conn, client.name, client.token_id, lifetime=SESSION_LIFETIME)


async def sign_out(container: Container, cookie: str) -> None:
    """End the session ``cookie`` names, if any: its cookie is refused from now on."""
    session_id = decode_session(cookie, await session_key(container)) if cookie else None
    if session_id is not None:
        async with container.database.transaction() as conn:
            await ConsoleSessions(container.clock).end(conn, session_id)


async def console_user(request: Request, container: ContainerDep) -> ConsoleUser:
    """The signed-in operator; without a session that still counts the browser goes to sign in."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        raise LoginRequired
    key = await session_key(container)
    session_id = decode_session(cookie, key)
    if session_id is None:
        raise LoginRequired
    async with container.database.transaction() as conn:
        session = await ConsoleSessions(container.clock).find(conn, session_id)
    if session is None:
        raise LoginRequired
    user = ConsoleUser(
        session.user,
        session.token_id,
        OPERATE_SCOPE in session.scopes,
        csrf_token(session_id, key),
    )
    request.state.console_user = user
    return user


ConsoleUserDep = Annotated[ConsoleUser, Depends(console_user)]


def check_csrf(user: ConsoleUser, submitted: str) -> None:
    """Refuse a form that was not made by this session's own page."""
    if not same_token(submitted, user.csrf):
        raise ConsoleProblem(
            403,
            "Form expired",
            "this form does not belong to your current session; reload the page and try again",
        )


def require_operator(user: ConsoleUser) -> None:
    if not user.can_operate:
        raise ConsoleProblem(
            403,
            "Operator access needed",
            f"{user.name} signed in with a token without the {OPERATE_SCOPE.value} scope; "
            "replaying needs one (payledger tokens create --scope operate)",
        )
