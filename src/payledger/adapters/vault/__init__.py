"""Secrets: encrypted at rest, referred to by name, never printed.

Callers depend on :class:`SecretProvider`; :class:`DatabaseSecretProvider` keeps Fernet-encrypted
values in the ``secrets`` table. :class:`AzureKeyVaultSecretProvider` (REST) and
:class:`~payledger.adapters.vault.hashicorp_vault.HashiCorpVaultSecretProvider` (KV v2 through
hvac, imported from its module so hvac loads only when chosen) implement the same protocol for
external stores, and :class:`CachedSecrets` keeps their values for a while.
"""

from payledger.adapters.vault.azure_key_vault import AzureKeyVaultSecretProvider
from payledger.adapters.vault.cache import CachedSecrets
from payledger.adapters.vault.database import DatabaseSecretProvider
from payledger.adapters.vault.keys import MasterKeyStore
from payledger.adapters.vault.provider import SecretInfo, SecretNotFound, SecretProvider

__all__ = [
    "AzureKeyVaultSecretProvider",
    "CachedSecrets",
    "DatabaseSecretProvider",
    "MasterKeyStore",
    "SecretInfo",
    "SecretNotFound",
    "SecretProvider",
]
