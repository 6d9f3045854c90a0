"""Where secrets live: the database vault, Azure Key Vault or HashiCorp Vault."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from payledger.config.base import ORIGIN, Section


class AzureKeyVaultSettings(Section):
    """Azure Key Vault, read with the Entra app of ``[d365]`` (or the tenant and client here)."""

    vault_url: str = ""
    """The vault's URL, e.g. ``https://contoso-payledger.vault.azure.net``."""
    tenant: str = ""
    """Entra tenant; empty: ``[d365] tenant``."""
    client_id: str = ""
    """Entra app; empty: ``[d365] client_id``."""
    client_secret_file: Path | None = None
    """File holding the app's client secret (else ``AZURE_CLIENT_SECRET``); never the TOML."""
    certificate_file: Path | None = None
    """PEM file with the app's certificate and private key, instead of a client secret."""
    resource: str = "https://vault.azure.net"
    """Token audience; the scope asked for is ``<resource>/.default``."""
    timeout_seconds: float = Field(30.0, ge=1)
    max_attempts: int = Field(4, ge=1)
    """Tries per call when Key Vault throttles (429) or fails (5xx)."""

    @field_validator("vault_url")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        if value and not ORIGIN.match(value):
            raise ValueError("must be https://NAME.vault.azure.net with no path")
        return value.rstrip("/")


class HashiCorpVaultSettings(Section):
    """HashiCorp Vault, KV version 2 secrets engine, token auth."""

    url: str = "http://127.0.0.1:8200"
    """Vault's address (``VAULT_ADDR``)."""
    token_file: Path | None = None
    """File holding the Vault token; empty: the ``VAULT_TOKEN`` environment variable."""
    mount_point: str = "secret"
    """Where the KV v2 engine is mounted."""
    path_prefix: str = "payledger"
    """Secrets live at ``<mount_point>/data/<path_prefix>/<name>``."""
    namespace: str = ""
    """Vault Enterprise namespace (``X-Vault-Namespace``); empty for none."""
    ca_file: Path | None = None
    """Extra CA certificate to trust for Vault's TLS."""
    timeout_seconds: float = Field(30.0, ge=1)
    max_attempts: int = Field(4, ge=1)
    """Tries per call when Vault is sealed, in standby or failing (5xx) or throttles (429)."""

    @field_validator("mount_point", "path_prefix")
    @classmethod
    def _a_path(cls, value: str) -> str:
        return value.strip("/")


class VaultSettings(Section):
    """Where secrets live: payledger's own encrypted table, Azure Key Vault or HashiCorp Vault."""

    provider: Literal["database", "azure_key_vault", "hashicorp_vault"] = "database"
    key_file: Path = Path("var/master.key")
    """Master key file, created (mode 0600) on first use unless ``PAYLEDGER_MASTER_KEY`` is set."""
    cache_seconds: float = Field(300.0, ge=0)
    """External providers: how long a value read is reused; a rotated one is used after it."""
    azure_key_vault: AzureKeyVaultSettings = AzureKeyVaultSettings()
    hashicorp_vault: HashiCorpVaultSettings = HashiCorpVaultSettings()

    @model_validator(mode="after")
    def _provider_configured(self) -> VaultSettings:
        if self.provider == "azure_key_vault" and not self.azure_key_vault.vault_url:
            raise ValueError("provider azure_key_vault needs [vault.azure_key_vault] vault_url")
        return self
