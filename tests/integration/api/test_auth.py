"""API tokens: stored hashed, with scopes; 401 without a valid token, 403 without the scope."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import select

from payledger.adapters.db.tables import api_tokens, audit_log
from payledger.domain.clock import ManualClock
from payledger.domain.errors import DomainError
from payledger.stores.api_clients import ApiClient, ApiClients
from payledger.web.auth import require_scope
from tests.integration.api.conftest import bearer


@pytest.fixture
def app(app):
    router = APIRouter()

    @router.get("/test/whoami")
    async def whoami(
        client: Annotated[ApiClient, Depends(require_scope("payments:write"))],
    ) -> dict[str, str]:
        return {"client": client.name}

    app.include_router(router)
    return app


async def test_a_valid_token_with_the_scope_identifies_its_client(http, issue_token):
    token = await issue_token("webshop", "payments:write")
    response = await http.get("/test/whoami", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"client": "webshop"}


async def test_no_token_is_401_with_a_bearer_challenge(http):
    response = await http.get("/test/whoami")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer plt_not-a-real-token", "Bearer something-else", "Basic dXNlcjpwYXNz"],
)
async def test_an_unknown_token_is_401(http, header):
    response = await http.get("/test/whoami", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"] in ("invalid_token", "unauthenticated")


async def test_a_revoked_token_is_401(http, issue_token, container):
    token = await issue_token("webshop", "payments:write")
    [info] = [i for i in await _tokens(container) if i.client == "webshop"]
    async with container.database.transaction() as conn:
        assert await ApiClients(container.clock).revoke(conn, info.token_id, actor="ops")
    response = await http.get("/test/whoami", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_an_expired_token_is_401(http, issue_token, clock):
    earlier = ManualClock(clock.now() - timedelta(days=2))
    token = await issue_token(
        "webshop", "payments:write", expires_in=timedelta(days=1), clock=earlier
    )
    response = await http.get("/test/whoami", headers=bearer(token))
    assert response.status_code == 401


async def test_a_token_without_the_scope_is_403_naming_it(http, issue_token):
    token = await issue_token("reporting", "read", "orders:write")
    response = await http.get("/test/whoami", headers=bearer(token))
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "insufficient_scope"
    assert body["required_scope"] == "payments:write"
    assert "reporting" in body["detail"]


async def test_tokens_are_stored_only_as_sha256_digests(issue_token, container):
    token = await issue_token("webshop", "payments:write")
    async with container.database.transaction() as conn:
        rows = (await conn.execute(select(api_tokens))).all()
    assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(tuple(row)) for row in rows)


async def test_creating_and_revoking_tokens_is_audited_without_the_token(issue_token, container):
    token = await issue_token("webshop", "payments:write", "read")
    [info] = await _tokens(container)
    async with container.database.transaction() as conn:
        await ApiClients(container.clock).revoke(conn, info.token_id, actor="ops")
        entries = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("test", "api_token.created", "api_client:webshop"),
        ("ops", "api_token.revoked", "api_client:webshop"),
    ]
    assert entries[0].detail["scopes"] == ["payments:write", "read"]
    assert all(token not in str(e.detail) for e in entries)


async def test_unknown_scopes_and_bad_names_are_refused(container):
    async with container.database.transaction() as conn:
        api = ApiClients(container.clock)
        with pytest.raises(DomainError, match="payments:delete"):
            await api.issue(conn, "shop", ["payments:delete"], actor="t")
        with pytest.raises(DomainError, match="client name"):
            await api.issue(conn, "a shop with spaces", ["read"], actor="t")


async def _tokens(container):
    async with container.database.transaction() as conn:
        return await ApiClients(container.clock).list(conn)
