"""Secrets: encrypted at rest, referred to by name, never printed.

Callers depend on :class:`SecretProvider`; :class:`DatabaseSecretProvider` keeps Fernet-encrypted
values in the ``secrets`` table. An external vault (HashiCorp Vault, Azure Key Vault) is another
implementation of the same protocol, so no caller changes when one is added.
"""

from payledger.adapters.vault.database import DatabaseSecretProvider
from payledger.adapters.vault.keys import MasterKeyStore
from payledger.adapters.vault.provider import SecretInfo, SecretNotFound, SecretProvider

__all__ = [
    "DatabaseSecretProvider",
    "MasterKeyStore",
    "SecretInfo",
    "SecretNotFound",
    "SecretProvider",
]
