"""API authentication: bearer tokens with scopes.

``require_scope("payments:write")`` is a FastAPI dependency that returns the calling
:class:`ApiClient`, or answers 401 (no valid token) or 403 (valid token, wrong scope) with an
:class:`~payledger.web.problems.ErrorBody`. Tokens are made with ``payledger tokens create``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payledger.stores.api_clients import ApiClient, ApiClients, Scope, parse_scopes
from payledger.web.deps import ContainerDep
from payledger.web.problems import ApiProblem

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token from `payledger tokens create` (`Authorization: Bearer plt_...`).",
)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="payledger"'}

__all__ = ["ApiClient", "Scope", "require_scope"]


def require_scope(*scopes: str) -> Callable[..., Awaitable[ApiClient]]:
    """A dependency admitting tokens that hold any of ``scopes``; returns the API client."""
    needed = parse_scopes(scopes)
    wording = " or ".join(needed)

    async def authenticated_client(
        container: ContainerDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiClient:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiProblem(
                401,
                "unauthenticated",
                "send an API token as 'Authorization: Bearer <token>' "
                "(make one with 'payledger tokens create')",
                headers=_CHALLENGE,
            )
        async with container.database.transaction() as conn:
            client = await ApiClients(container.clock).authenticate(conn, credentials.credentials)
        if client is None:
            raise ApiProblem(
                401,
                "invalid_token",
                "the API token is unknown, revoked or expired",
                headers={"WWW-Authenticate": 'Bearer realm="payledger", error="invalid_token"'},
            )
        if not any(client.allows(scope) for scope in needed):
            raise ApiProblem(
                403,
                "insufficient_scope",
                f"this token (client {client.name!r}) lacks the {wording} scope",
                required_scope=wording,
            )
        return client

    return authenticated_client
