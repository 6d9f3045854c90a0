"""The service with the API mounted, a clock the tests move, and tokens to call it with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from payledger.bootstrap import Container, build
from payledger.config import (
    ApiSettings,
    DatabaseSettings,
    LoggingSettings,
    Settings,
    VaultSettings,
)
from payledger.domain.clock import ManualClock
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app

IssueToken = Callable[..., Awaitable[str]]


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        api=ApiSettings(idempotency_ttl_hours=1),
    )


@pytest.fixture
async def container(settings, clock: ManualClock) -> AsyncIterator[Container]:
    built = build(settings, clock=clock)
    await built.prepare()
    if not built.database.is_sqlite:
        from payledger.adapters.db.migrate import migrate

        await migrate(built.database)
    yield built
    await built.aclose()


@pytest.fixture
def app(container: Container):
    return create_app(container, embedded_worker=False)


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payledger.test") as client:
        yield client


@pytest.fixture
def issue_token(container: Container) -> IssueToken:
    """``await issue_token("shop", "payments:write")`` → a bearer token for that client."""

    async def issue(
        client: str, *scopes: str, expires_in: timedelta | None = None, clock=None
    ) -> str:
        async with container.database.transaction() as conn:
            issued = await ApiClients(clock or container.clock).issue(
                conn, client, scopes, actor="test", expires_in=expires_in
            )
        return issued.secret

    return issue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
