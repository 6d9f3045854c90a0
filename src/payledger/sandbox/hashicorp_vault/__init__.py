"""A local emulator of HashiCorp Vault's KV version 2 secrets engine with token auth.

Built from Vault's public HTTP API docs (``/v1/{mount}/data``, ``/metadata``, ``LIST``,
``/v1/sys/health``, the ``{"errors": [...]}`` envelope), never from hvac or payledger's client.
Serve it with h11 (``http="h11"``): httptools refuses the ``LIST`` method Vault clients send.
"""

from payledger.sandbox.hashicorp_vault.app import HashiCorpVaultSandbox, create_app
from payledger.sandbox.hashicorp_vault.store import (
    ALL_CAPABILITIES,
    DEFAULT_TOKEN,
    VaultSandboxSettings,
)

__all__ = [
    "ALL_CAPABILITIES",
    "DEFAULT_TOKEN",
    "HashiCorpVaultSandbox",
    "VaultSandboxSettings",
    "create_app",
]
