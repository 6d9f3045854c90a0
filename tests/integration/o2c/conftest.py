"""Order to cash and customer sync against both sandboxes served on loopback (D365 over TLS),
with payledger's real container on a real database."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from payledger.adapters.paytrace import PayTraceClient, PayTraceEncryptedCard
from payledger.bootstrap import Container, build
from payledger.config import (
    D365Settings,
    DatabaseSettings,
    LoggingSettings,
    PayTraceSettings,
    Settings,
    VaultSettings,
    WorkerSettings,
)
from payledger.demo.stage import DISCRETIONARY_TITLES, Stage, sandboxes
from payledger.sandbox.paytrace import encrypt_field

VISA = "4012000098765439"


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    async with sandboxes(tmp_path) as running:
        running.d365.state.faults.settings.update({"latency_ms": 0, "jitter_ms": 0})
        yield running


def o2c_settings(database_url: str, tmp_path: Path, stage: Stage, **sections: Any) -> Settings:
    values: dict[str, Any] = {
        "database": DatabaseSettings(url=database_url),
        "vault": VaultSettings(key_file=tmp_path / "master.key"),
        "logging": LoggingSettings(file=None),
        "worker": WorkerSettings(
            poll_interval_seconds=0.02, backoff_base_seconds=0.05, backoff_cap_seconds=0.2
        ),
        "paytrace": PayTraceSettings(
            base_url=stage.paytrace_url,
            username="demo123",
            integrator_id="payledger-test",
            discretionary_titles=list(DISCRETIONARY_TITLES),
            timeout_seconds=5,
        ),
        "d365": D365Settings(
            enabled=True,
            base_url=stage.d365_url,
            authority_host=stage.d365_url,
            tenant="payledger-sandbox",
            client_id="payledger-client",
            ca_file=stage.certificate,
            timeout_seconds=5,
        ),
    }
    values.update(sections)
    return Settings(**values)


async def open_container(settings: Settings) -> Container:
    container = build(settings)
    await container.prepare()
    await container.vault.set("paytrace-password", "demo123", actor="test")
    await container.vault.set("d365-client-secret", "payledger-secret", actor="test")
    return container


@pytest.fixture
async def container(database_url: str, tmp_path: Path, stage: Stage) -> AsyncIterator[Container]:
    built = await open_container(o2c_settings(database_url, tmp_path, stage))
    yield built
    await built.aclose()


@pytest.fixture
async def d365_rows(stage: Stage) -> Any:
    """``await d365_rows("CustomersV3", CustomerAccount="US-001")``: rows as F&O renders them."""

    async def rows(entity_set: str, **match: Any) -> list[dict[str, Any]]:
        trust = ssl.create_default_context(cafile=str(stage.certificate))
        async with httpx.AsyncClient(verify=trust) as http:
            reply = await http.get(
                f"{stage.d365_url}/_sandbox/state/{entity_set}", params={"company": "usmf"}
            )
        found: list[dict[str, Any]] = reply.json()["value"]
        return [row for row in found if all(row.get(k) == v for k, v in match.items())]

    return rows


def encrypted_card(number: str = VISA) -> PayTraceEncryptedCard:
    """What PayTrace Protect hands the shop: the number encrypted, never in payledger's hands."""
    return PayTraceEncryptedCard(
        encrypted_number=encrypt_field(number), expiration_month=12, expiration_year=2030
    )


@pytest.fixture
async def shop(stage: Stage) -> AsyncIterator[PayTraceClient]:
    """A shop's own PayTrace client, to put cards in the vault the way a shop front end does."""
    async with PayTraceClient(stage.paytrace_url, "demo123", "demo123", "shop") as client:
        yield client


def money(value: Any) -> Decimal:
    return Decimal(str(value))
