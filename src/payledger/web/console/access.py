"""Who may use the console: sign-in with an API token, session cookies, CSRF, roles.

A person signs in by pasting an API token (``payledger tokens create --role ...``). The token's
scopes give the session one role, the highest it holds: ``admin`` > ``map`` (mapper) >
``operate`` (operator) > ``read`` (viewer). Each page and action depends on the least role it
needs (:func:`require_role`; the aliases :data:`ViewerDep` ... :data:`AdminDep`), and a lower
role gets a 403 page naming the role needed. Signing in opens a session on the server; the
cookie names it, never the token. Every request looks the session up with its token, so
signing out, or revoking the token, ends it at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from payledger.adapters.vault import SecretNotFound
from payledger.bootstrap import Container
from payledger.domain.errors import ConfigError
from payledger.stores.api_clients import ROLE_SCOPES, ApiClients, Role, role_of
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
    role: Role
    csrf: str

    def may(self, role: Role) -> bool:
        """Whether this person may do what ``role`` may (templates ask before showing an action)."""
        return self.role.includes(role)


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
        if client is None or role_of(client.scopes) is None:
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
    role = role_of(session.scopes) if session is not None else None
    if session is None or role is None:
        raise LoginRequired
    user = ConsoleUser(session.user, session.token_id, role, csrf_token(session_id, key))
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


def refuse_below(user: ConsoleUser, needed: Role) -> None:
    """A 403 page naming the role ``needed`` when ``user``'s role is lower."""
    if not user.may(needed):
        raise ConsoleProblem(
            403,
            f"{needed.value.capitalize()} access needed",
            f"{user.name} is signed in as {user.role.value}; this needs the {needed.value} "
            f"role: a token with the {ROLE_SCOPES[needed].value} scope "
            f"(payledger tokens create --role {needed.value})",
        )


def require_role(needed: Role) -> Callable[[Request, ConsoleUser], Awaitable[ConsoleUser]]:
    """The dependency of a page or action that ``needed`` (or a higher role) may use.

    A form's CSRF token is checked before the role, so a forged request learns nothing about
    the session it rode on.
    """

    async def signed_in_as(request: Request, user: ConsoleUserDep) -> ConsoleUser:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            submitted = (await request.form()).get("csrf", "")
            check_csrf(user, submitted if isinstance(submitted, str) else "")
        refuse_below(user, needed)
        return user

    return signed_in_as


ViewerDep = Annotated[ConsoleUser, Depends(require_role(Role.VIEWER))]
OperatorDep = Annotated[ConsoleUser, Depends(require_role(Role.OPERATOR))]
MapperDep = Annotated[ConsoleUser, Depends(require_role(Role.MAPPER))]
"""For the mapping studio's edits."""
AdminDep = Annotated[ConsoleUser, Depends(require_role(Role.ADMIN))]
