"""``/metrics`` and the API description can be closed to anonymous callers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from payledger.bootstrap import build
from payledger.config import ServiceSettings
from payledger.stores.api_clients import ApiClients
from payledger.web.app import create_app


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Access rules, not storage: SQLite is enough."""
    return sqlite_url


async def serving(settings) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    from payledger.adapters.db.migrate import migrate

    container = build(settings)
    await migrate(container.database)
    transport = httpx.ASGITransport(app=create_app(container, embedded_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://payledger.test") as http:
        yield http, container
    await container.aclose()


async def test_metrics_and_docs_are_open_by_default(client):
    assert (await client.get("/metrics")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200


async def test_metrics_need_a_read_token_when_so_configured(settings):
    closed = settings.model_copy(update={"service": ServiceSettings(metrics_auth="token")})
    async for http, container in serving(closed):
        anonymous = await http.get("/metrics")
        assert anonymous.status_code == 401 and "payledger_" not in anonymous.text
        async with container.database.transaction() as conn:
            reader = await ApiClients(container.clock).issue(conn, "prom", ["read"], actor="t")
            writer = await ApiClients(container.clock).issue(
                conn, "shop", ["orders:write"], actor="t"
            )
        wrong = await http.get("/metrics", headers={"Authorization": f"Bearer {writer.secret}"})
        assert wrong.status_code == 403
        scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {reader.secret}"})
        assert scraped.status_code == 200 and "payledger_queue_depth" in scraped.text


async def test_the_api_description_can_be_turned_off(settings):
    hidden = settings.model_copy(update={"service": ServiceSettings(openapi=False)})
    async for http, _container in serving(hidden):
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/healthz")).status_code == 200
