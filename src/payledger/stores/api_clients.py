"""API clients and their bearer tokens: created, listed, revoked and checked, all audited.

No flow port: the API's and console's authentication and ``payledger tokens`` use it.

A token is shown once, when it is made, and stored only as its SHA-256 digest: it carries 256
bits of randomness, so a fast hash is enough (nothing to brute-force) and a stolen table holds
nothing that authenticates. A presented token is looked up by its digest and the digests are
compared again in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from payledger.adapters.db.audit import record_audit
from payledger.adapters.db.tables import api_clients, api_tokens
from payledger.domain.clock import Clock
from payledger.domain.errors import DomainError

TOKEN_PREFIX = "plt_"  # noqa: S105 - the visible prefix of every token
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often per token."""


class Scope(StrEnum):
    PAYMENTS_WRITE = "payments:write"
    """Charge invoices and orders; capture, void and refund payments."""
    ORDERS_WRITE = "orders:write"
    """Submit shop orders."""
    READ = "read"
    """Read payments, orders and their status."""
    OPERATE = "operate"
    """Operate the web console: replay dead letters, approve journals, act on dunning cases
    and subscriptions (the console's ``operator`` role)."""
    MAP = "map"
    """Edit mapping templates in the web console (the ``mapper`` role)."""
    ADMIN = "admin"
    """Read every client's payments and orders (others see only their own); with
    ``payments:write``, also capture, void and refund any client's payments. In the web
    console: the ``admin`` role."""


class Role(StrEnum):
    """What a console session may do; each role may do all that the roles below it may."""

    VIEWER = "viewer"
    """Sees every console page."""
    OPERATOR = "operator"
    """Also acts on dead letters, journals, dunning cases and subscriptions."""
    MAPPER = "mapper"
    """Also edits mapping templates."""
    ADMIN = "admin"
    """Everything."""

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """Whether this role may do what ``other`` may."""
        return self.rank >= other.rank


ROLE_SCOPES: Mapping[Role, Scope] = {
    Role.ADMIN: Scope.ADMIN,
    Role.MAPPER: Scope.MAP,
    Role.OPERATOR: Scope.OPERATE,
    Role.VIEWER: Scope.READ,
}
"""The scope that grants each console role, highest role first."""


def role_of(scopes: Iterable[Scope]) -> Role | None:
    """The console role a token's scopes grant (the highest), or None: no console access."""
    held = frozenset(scopes)
    return next((role for role, scope in ROLE_SCOPES.items() if scope in held), None)


def scopes_of_role(name: str) -> tuple[Scope, ...]:
    """The scopes ``tokens create --role NAME`` grants: the role's scope and those of the roles
    below it (so an operator may also ``read`` through the API); an unknown role raises
    :class:`DomainError` naming it."""
    known = {role.value: role for role in Role}
    role = known.get(name.strip().lower())
    if role is None:
        raise DomainError(f"unknown role {name!r}; use one of: {', '.join(known)}")
    return tuple(ROLE_SCOPES[below] for below in Role if role.includes(below))


@dataclass(frozen=True)
class ApiClient:
    """The caller a valid token belongs to."""

    id: int
    name: str
    token_id: int
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def can_see(self, owner: str) -> bool:
        """Whether this client may see a payment or order that API client ``owner`` made: its
        own, and, with the ``admin`` scope, anyone's (others' are answered as unknown)."""
        return self.allows(Scope.ADMIN) or (bool(owner) and owner == self.name)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is the only copy, shown once."""

    token_id: int
    client: str
    secret: str
    scopes: tuple[Scope, ...]
    expires_at: datetime | None


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the token itself."""

    token_id: int
    client: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Known scopes, deduplicated; an unknown one raises :class:`DomainError` naming it."""
    known = {scope.value: scope for scope in Scope}
    chosen: list[Scope] = []
    for value in values:
        scope = known.get(value.strip())
        if scope is None:
            raise DomainError(f"unknown scope {value!r}; use one of: {', '.join(known)}")
        if scope not in chosen:
            chosen.append(scope)
    if not chosen:
        raise DomainError("a token needs at least one scope")
    return tuple(chosen)


class ApiClients:
    """The ``api_clients`` and ``api_tokens`` tables."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def issue(
        self,
        conn: AsyncConnection,
        client: str,
        scopes: Iterable[str],
        *,
        actor: str,
        expires_in: timedelta | None = None,
    ) -> IssuedToken:
        """A new token for ``client`` (created when new), audited without its value."""
        if not _NAME.match(client):
            raise DomainError(
                f"client name {client!r} must be 1-80 letters, digits, '.', '_' or '-'"
            )
        chosen = parse_scopes(scopes)
        now = self.clock.now()
        client_id = await self._client_id(conn, client, now)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + expires_in if expires_in else None
        token_id: int = (
            await conn.execute(
                insert(api_tokens)
                .values(
                    client_id=client_id,
                    token_hash=digest(secret),
                    prefix=secret[:12],
                    scopes=" ".join(chosen),
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(api_tokens.c.id)
            )
        ).scalar_one()
        detail = {"token_id": token_id, "scopes": list(chosen), "prefix": secret[:12]}
        await record_audit(
            conn,
            at=now,
            actor=actor,
            action="api_token.created",
            subject=f"api_client:{client}",
            detail=detail,
        )
        return IssuedToken(token_id, client, secret, chosen, expires_at)

    async def _client_id(self, conn: AsyncConnection, name: str, now: datetime) -> int:
        existing = await conn.scalar(select(api_clients.c.id).where(api_clients.c.name == name))
        if existing is not None:
            return int(existing)
        created = await conn.execute(
            insert(api_clients).values(name=name, created_at=now).returning(api_clients.c.id)
        )
        return int(created.scalar_one())

    async def revoke(self, conn: AsyncConnection, token_id: int, *, actor: str) -> bool:
        """Revoke one token; False when it does not exist or was already revoked."""
        now = self.clock.now()
        row = (
            await conn.execute(
                select(api_tokens.c.id, api_clients.c.name)
                .join(api_clients, api_clients.c.id == api_tokens.c.client_id)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            )
        ).one_or_none()
        if row is None:
            return False
        await conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now)
        )
        await record_audit(
            conn,
            at=now,
            actor=actor,
            action="api_token.revoked",
            subject=f"api_client:{row.name}",
            detail={"token_id": token_id},
        )
        return True

    async def list(self, conn: AsyncConnection) -> list[TokenInfo]:
        rows = await conn.execute(
            select(api_tokens, api_clients.c.name)
            .join(api_clients, api_clients.c.id == api_tokens.c.client_id)
            .order_by(api_tokens.c.id)
        )
        return [
            TokenInfo(
                token_id=row.id,
                client=row.name,
                prefix=row.prefix,
                scopes=parse_scopes(row.scopes.split()),
                created_at=row.created_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                last_used_at=row.last_used_at,
            )
            for row in rows
        ]

    async def authenticate(self, conn: AsyncConnection, token: str) -> ApiClient | None:
        """The client of a valid (known, unrevoked, unexpired) token, else None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        presented = digest(token)
        row = (
            await conn.execute(
                select(api_tokens, api_clients.c.name)
                .join(api_clients, api_clients.c.id == api_tokens.c.client_id)
                .where(api_tokens.c.token_hash == presented)
            )
        ).one_or_none()
        if row is None or not hmac.compare_digest(row.token_hash, presented):
            return None
        now = self.clock.now()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            await conn.execute(
                update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
            )
        return ApiClient(
            id=row.client_id,
            name=row.name,
            token_id=row.id,
            scopes=frozenset(parse_scopes(row.scopes.split())),
        )
