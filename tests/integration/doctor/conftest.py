"""Both sandboxes served over TCP (D365 over https) for the doctor, configured as in the README.

The container builds its connectors from configuration URLs, so the sandboxes run under
uvicorn on loopback ports in background threads, once per test module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from payledger import doctor
from payledger.bench.postgres import free_port
from payledger.bootstrap import Container, build
from payledger.config import Settings
from payledger.doctor import Finding
from payledger.domain.clock import Clock
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import self_signed_certificate, write_self_signed_certificate
from payledger.sandbox.paytrace import create_app as create_paytrace
from tests.serving import serving

D365_SECRET = "payledger-secret"
CLIENT_CERT_PEM, CLIENT_KEY_PEM = self_signed_certificate(
    ("payledger-client",), common_name="payledger client"
)
"""The certificate the sandbox's default client may also authenticate with, and its key."""


@dataclass(frozen=True)
class Sandboxes:
    paytrace: str
    d365: str
    cert: Path


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    cert, key = write_self_signed_certificate(tmp_path_factory.mktemp("tls"))
    pt_port, d365_port = free_port(), free_port()
    d365_url = f"https://127.0.0.1:{d365_port}"
    d365_app = create_d365(
        D365SandboxSettings(base_url=d365_url, client_certificate_pem=CLIENT_CERT_PEM)
    )
    with (
        serving(create_paytrace(), pt_port) as paytrace_url,
        serving(d365_app, d365_port, ssl_certfile=str(cert), ssl_keyfile=str(key)),
    ):
        yield Sandboxes(paytrace_url, d365_url, cert)


def configured(sandboxes: Sandboxes, tmp_path: Path, **changes: dict[str, Any]) -> Settings:
    """Settings pointing at the sandboxes (the README's "Going live" file), with changes."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": f"sqlite:///{tmp_path / 'payledger.db'}"},
        "vault": {"key_file": tmp_path / "master.key"},
        "paytrace": {
            "enabled": True,
            "base_url": sandboxes.paytrace,
            "username": "demo123",
            "integrator_id": "9575315uXt4u",
        },
        "d365": {
            "enabled": True,
            "base_url": sandboxes.d365,
            "authority_host": sandboxes.d365,
            "tenant": "payledger-sandbox",
            "client_id": "payledger-client",
            "ca_file": sandboxes.cert,
        },
    }
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    return Settings(**sections)


async def close(container: Container) -> None:
    # Container.aclose() closes the D365 client but not its credential's HTTP client (reported).
    try:
        credential = (await container.d365_client()).credential
    except Exception:  # no secret, no schema: no client was built
        credential = None
    await container.aclose()
    if credential is not None:
        await credential.aclose()


async def opened(
    settings: Settings,
    secrets: dict[str, str] | None = None,
    *,
    migrated: bool = True,
    clock: Clock | None = None,
) -> Container:
    container = build(settings, clock=clock)
    if migrated:
        await container.prepare()
    for name, value in (secrets or {}).items():
        await container.vault.set(name, value, actor="test")
    return container


SECRETS = {"paytrace-password": "demo123", "d365-client-secret": D365_SECRET}


@pytest.fixture
async def ready(sandboxes: Sandboxes, tmp_path: Path) -> AsyncIterator[Container]:
    container = await opened(configured(sandboxes, tmp_path), SECRETS)
    yield container
    await close(container)


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.name: finding for finding in findings}


async def diagnosed(
    settings: Settings, secrets: dict[str, str] | None = None, *, clock: Clock | None = None
) -> dict[str, Finding]:
    """``payledger doctor`` on a container built from ``settings``, findings by name."""
    container = await opened(settings, secrets, clock=clock)
    try:
        return by_name(await doctor.run(container))
    finally:
        await close(container)
