"""Secrets in Azure Key Vault, over its REST API (``api-version=7.4``).

REST with httpx rather than ``azure-keyvault-secrets``: payledger already speaks HTTP through
one async stack (httpx, with its transports, TLS settings and test transports) and already
gets Entra ID tokens through msal for D365; the SDK would add azure-core and azure-identity, a
second HTTP pipeline and a second credential model for four calls. The token comes from any
:class:`BearerTokens` (bootstrap passes the D365 adapter's ``EntraIdCredential`` for
``https://vault.azure.net``), so this adapter imports no other adapter.

Key Vault names are 1-127 letters, digits and dashes (case-insensitive); payledger's secret
names are lower-case words joined by dashes and fit as they are. A name that does not fit is
refused with :class:`ConfigError`, never silently rewritten.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from payledger.adapters.vault.provider import SecretInfo, SecretNotFound
from payledger.adapters.vault.retry import Sleep, retrying
from payledger.domain.errors import (
    AuthError,
    ConfigError,
    RateLimited,
    RejectedError,
    TransientError,
)

API_VERSION = "7.4"
SYSTEM = "azure_key_vault"
NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


class BearerTokens(Protocol):
    """Where the provider gets Entra ID access tokens for the vault's resource."""

    async def token(self) -> str: ...

    async def invalidate(self) -> None: ...


def checked_name(name: str) -> str:
    """``name`` if Key Vault accepts it; otherwise a :class:`ConfigError` saying why."""
    if not NAME.match(name):
        raise ConfigError(
            f"secret name {name!r} cannot be kept in Azure Key Vault: names are 1-127 "
            "letters, digits and dashes"
        )
    return name


@contextmanager
def _map_transport(vault: str, operation: str) -> Iterator[None]:
    try:
        yield
    except httpx.TransportError as exc:
        raise TransientError(
            f"Azure Key Vault {vault}: {type(exc).__name__} during {operation}",
            system=SYSTEM,
            operation=operation,
        ) from exc


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.reason_phrase
    return str(error.get("message") or error.get("code") or response.reason_phrase)


def _when(seconds: Any) -> datetime | None:
    return datetime.fromtimestamp(int(seconds), UTC) if seconds is not None else None


def secret_info(item: dict[str, Any]) -> SecretInfo:
    """A ``SecretBundle`` or ``SecretItem`` as :class:`SecretInfo` (its value is not kept)."""
    parts = str(item["id"]).split("/secrets/", 1)[1].split("/")
    attributes = item.get("attributes") or {}
    created = _when(attributes.get("created")) or datetime.fromtimestamp(0, UTC)
    updated = _when(attributes.get("updated"))
    return SecretInfo(
        name=parts[0],
        created_at=created,
        rotated_at=updated if updated and updated != created else None,
        version=parts[1] if len(parts) > 1 else None,
    )


class AzureKeyVaultSecretProvider:
    """The vault provider for ``[vault] provider = "azure_key_vault"``.

    Args:
        vault_url: ``https://NAME.vault.azure.net``.
        tokens: Entra ID tokens whose audience is the vault resource.
        http: the client for vault calls (tests pass one over the sandbox's ASGI app).
        max_attempts: tries per call when throttled (429, after ``Retry-After``) or on 5xx.
    """

    def __init__(
        self,
        vault_url: str,
        tokens: BearerTokens,
        *,
        http: httpx.AsyncClient,
        max_attempts: int = 4,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.vault_url = vault_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.max_attempts = max_attempts
        self._sleep = sleep

    async def _once(self, method: str, url: str, permission: str, body: Any) -> httpx.Response:
        for fresh_token in (False, True):
            try:
                token = await self.tokens.token()
            except AuthError as exc:
                raise ConfigError(
                    f"Azure Key Vault {self.vault_url}: no access token from Entra ID: {exc}"
                ) from exc
            headers = {"Authorization": f"Bearer {token}"}
            params = None if "api-version=" in url else {"api-version": API_VERSION}
            with _map_transport(self.vault_url, permission):
                response = await self.http.request(
                    method, url, params=params, json=body, headers=headers
                )
            if response.status_code != 401 or fresh_token:
                break
            await self.tokens.invalidate()
        return self._checked(response, permission)

    def _checked(self, response: httpx.Response, permission: str) -> httpx.Response:
        status, vault = response.status_code, self.vault_url
        context: dict[str, Any] = {"system": SYSTEM, "operation": permission, "status": status}
        if status < 400 or status == 404:
            return response
        if status == 401:
            raise ConfigError(
                f"Azure Key Vault {vault} refused the Entra ID token (401): the app's tenant "
                f"must be the vault's tenant: {_message(response)}"
            )
        if status == 403:
            raise ConfigError(
                f"Azure Key Vault {vault}: the app lacks the secrets {permission} permission "
                f"(grant it in an access policy, or the Key Vault Secrets Officer role): "
                f"{_message(response)}"
            )
        if status == 429:
            after = response.headers.get("Retry-After", "")
            raise RateLimited(
                f"Azure Key Vault {vault} is throttling: {_message(response)}",
                retry_after=float(after) if after.isdigit() else None,
                **context,
            )
        if status >= 500:
            raise TransientError(f"Azure Key Vault {vault}: {_message(response)}", **context)
        if status == 409:
            raise ConfigError(
                f"Azure Key Vault {vault}: {_message(response)} (recover or purge the deleted "
                "secret first: az keyvault secret recover/purge)"
            )
        raise RejectedError(f"Azure Key Vault {vault}: {_message(response)}", **context)

    async def _call(
        self, method: str, url: str, permission: str, body: Any = None
    ) -> httpx.Response:
        async def once() -> httpx.Response:
            return await self._once(method, url, permission, body)

        return await retrying(once, attempts=self.max_attempts, sleep=self._sleep)

    def _secret_url(self, name: str) -> str:
        return f"{self.vault_url}/secrets/{checked_name(name)}"

    def _not_found(self, name: str) -> SecretNotFound:
        return SecretNotFound(
            f"secret {name!r} is not in Azure Key Vault {self.vault_url} "
            f"(payledger secrets set {name})"
        )

    async def get(self, name: str) -> SecretStr:
        response = await self._call("GET", self._secret_url(name), "get")
        if response.status_code == 404:
            raise self._not_found(name)
        return SecretStr(str(response.json()["value"]))

    async def set(self, name: str, value: str, *, actor: str) -> None:
        if not value:
            raise ConfigError("a secret needs a non-empty value")
        body = {"value": value, "tags": {"set-by": actor}}
        await self._call("PUT", self._secret_url(name), "set", body)

    async def delete(self, name: str, *, actor: str) -> bool:
        response = await self._call("DELETE", self._secret_url(name), "delete")
        return response.status_code != 404

    async def info(self, name: str) -> SecretInfo:
        response = await self._call("GET", self._secret_url(name), "get")
        if response.status_code == 404:
            raise self._not_found(name)
        return secret_info(response.json())

    async def list(self) -> list[SecretInfo]:
        found: list[SecretInfo] = []
        url: str | None = f"{self.vault_url}/secrets"
        while url:
            page = (await self._call("GET", url, "list")).json()
            found += [secret_info(item) for item in page.get("value") or []]
            url = page.get("nextLink")
            if url and httpx.URL(url).host != httpx.URL(self.vault_url).host:
                raise ConfigError(
                    f"Azure Key Vault {self.vault_url}: nextLink points at another host; "
                    "the token is not sent there"
                )
        return sorted(found, key=lambda info: info.name)

    async def aclose(self) -> None:
        await self.http.aclose()
