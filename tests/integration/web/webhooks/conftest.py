"""Fixtures for the webhook tests: the PayTrace sandbox on a loopback port, payledger with its
secrets in the vault, and a signing sender posting to the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from payledger.bootstrap import Container
from payledger.web.app import create_app
from tests.integration.web.webhooks.stage import (
    SECRET,
    PayTraceStage,
    Sender,
    open_container,
    paytrace_stage,
    webhook_settings,
)


@pytest.fixture
async def stage() -> AsyncIterator[PayTraceStage]:
    async with paytrace_stage(seed=3) as running:
        yield running


@pytest.fixture
async def container(database_url, tmp_path, stage) -> AsyncIterator[Container]:
    settings = webhook_settings(database_url, tmp_path, stage.url)
    built = await open_container(
        settings, {"paytrace-password": "demo123", "paytrace-webhook-secret": SECRET}
    )
    yield built
    await built.aclose()


@pytest.fixture
async def sender(container) -> AsyncIterator[Sender]:
    app = create_app(container, embedded_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payledger.test") as http:
        yield Sender(http)
