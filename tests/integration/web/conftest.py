from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from payledger.bootstrap import Container, build
from payledger.config import (
    DatabaseSettings,
    LoggingSettings,
    ServiceSettings,
    Settings,
    VaultSettings,
)
from payledger.web.app import create_app


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        vault=VaultSettings(key_file=tmp_path / "master.key"),
        logging=LoggingSettings(file=None),
        service=ServiceSettings(max_body_bytes=4096),
    )


@pytest.fixture
async def container(settings) -> AsyncIterator[Container]:
    from payledger.adapters.db.migrate import migrate

    built = build(settings)
    await migrate(built.database)
    yield built
    await built.aclose()


@pytest.fixture
async def client(container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container, embedded_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payledger.test") as http:
        yield http


@pytest.fixture
async def browser(container) -> AsyncIterator[httpx.AsyncClient]:
    """A client on https, as console session cookies are Secure."""
    transport = httpx.ASGITransport(app=create_app(container, embedded_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url="https://payledger.test") as http:
        yield http
