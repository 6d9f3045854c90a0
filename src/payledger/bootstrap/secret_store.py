"""Which secret store the container uses: ``[vault] provider``.

``database`` is payledger's own encrypted table, read directly. ``azure_key_vault`` and
``hashicorp_vault`` are reached over the network, so their values are cached for
``[vault] cache_seconds`` (:class:`CachedSecrets`): a value rotated in the store is used once
its entry expires, without a restart.
"""

from __future__ import annotations

import os
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from payledger.adapters.d365 import EntraIdCredential
from payledger.adapters.d365.auth import ClientCertificate
from payledger.adapters.db.database import Database
from payledger.adapters.vault import DatabaseSecretProvider, MasterKeyStore, SecretProvider
from payledger.adapters.vault.azure_key_vault import AzureKeyVaultSecretProvider
from payledger.adapters.vault.cache import CachedSecrets
from payledger.config import Settings
from payledger.domain.clock import Clock
from payledger.domain.errors import ConfigError

AZURE_CLIENT_SECRET_ENV = "AZURE_CLIENT_SECRET"  # noqa: S105 - a variable's name
VAULT_TOKEN_ENV = "VAULT_TOKEN"  # noqa: S105 - a variable's name


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None


def vault_token(settings: Settings) -> str:
    """The HashiCorp Vault token: ``token_file``, else ``VAULT_TOKEN``."""
    hv = settings.vault.hashicorp_vault
    token = _read(hv.token_file, "[vault.hashicorp_vault] token_file") if hv.token_file else ""
    token = token or os.environ.get(VAULT_TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            "HashiCorp Vault needs a token: set [vault.hashicorp_vault] token_file or "
            f"{VAULT_TOKEN_ENV} (never the token itself in the TOML)"
        )
    return token


def _entra_credential(settings: Settings, verify: Any, **options: Any) -> EntraIdCredential:
    """An Entra ID credential for Key Vault: ``[d365]``'s app unless the section names another."""
    kv, d = settings.vault.azure_key_vault, settings.d365
    common: dict[str, Any] = {
        "tenant": kv.tenant or d.tenant,
        "client_id": kv.client_id or d.client_id,
        "resource": kv.resource,
        "authority_host": d.authority_host,
        "verify": verify,
        **options,
    }
    if not (common["tenant"] and common["client_id"]):
        raise ConfigError("Azure Key Vault needs a tenant and client_id ([d365] or the section)")
    if kv.certificate_file:
        pem = _read(kv.certificate_file, "[vault.azure_key_vault] certificate_file")
        return EntraIdCredential(
            certificate=ClientCertificate(private_key_pem=pem, certificate_pem=pem), **common
        )
    where = "[vault.azure_key_vault] client_secret_file"
    secret = _read(kv.client_secret_file, where) if kv.client_secret_file else ""
    secret = secret or os.environ.get(AZURE_CLIENT_SECRET_ENV, "").strip()
    if not secret:
        raise ConfigError(
            f"Azure Key Vault needs the app's credential: set {where}, certificate_file, or "
            f"{AZURE_CLIENT_SECRET_ENV} (the vault cannot hold its own key)"
        )
    return EntraIdCredential(client_secret=secret, **common)


class _LazyEntraCredential:
    """Builds the credential on first use, so a missing one is reported where it is needed."""

    def __init__(self, settings: Settings, verify: Any, options: dict[str, Any]) -> None:
        self._args = (settings, verify, options)
        self._credential: EntraIdCredential | None = None

    async def token(self) -> str:
        if self._credential is None:
            settings, verify, options = self._args
            self._credential = _entra_credential(settings, verify, **options)
        return await self._credential.token()

    async def invalidate(self) -> None:
        if self._credential is not None:
            await self._credential.invalidate()

    async def aclose(self) -> None:
        if self._credential is not None:
            await self._credential.aclose()


class _AzureKeyVault(AzureKeyVaultSecretProvider):
    """The Key Vault provider owning its credential (closed with it)."""

    async def aclose(self) -> None:
        await super().aclose()
        if isinstance(self.tokens, _LazyEntraCredential):
            await self.tokens.aclose()


def build_secret_store(
    settings: Settings,
    database: Database,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SecretProvider:
    """The provider ``[vault] provider`` names; ``transport`` carries Key Vault and Entra calls
    (tests pass the sandboxes' ASGI apps)."""
    v = settings.vault
    if v.provider == "database":
        return DatabaseSecretProvider(database, MasterKeyStore(v.key_file), clock)
    inner: SecretProvider
    if v.provider == "azure_key_vault":
        kv, ca_file = v.azure_key_vault, settings.d365.ca_file
        verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        options = {"transport": transport, "timeout": kv.timeout_seconds}
        inner = _AzureKeyVault(
            kv.vault_url,
            _LazyEntraCredential(settings, verify, options),
            http=httpx.AsyncClient(transport=transport, verify=verify, timeout=kv.timeout_seconds),
            max_attempts=kv.max_attempts,
        )
    else:
        from payledger.adapters.vault.hashicorp_vault import HashiCorpVaultSecretProvider

        hv = v.hashicorp_vault
        inner = HashiCorpVaultSecretProvider(
            hv.url,
            lambda: vault_token(settings),
            mount_point=hv.mount_point,
            path_prefix=hv.path_prefix,
            max_attempts=hv.max_attempts,
            namespace=hv.namespace or None,
            verify=str(hv.ca_file) if hv.ca_file else True,
            timeout=hv.timeout_seconds,
        )
    return CachedSecrets(inner, timedelta(seconds=v.cache_seconds), clock)
