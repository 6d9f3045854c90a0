"""A local emulator of Azure Key Vault's secrets REST API (``api-version=7.4``).

Built from Microsoft's public REST reference (Get/Set/Delete Secret, Get Secrets, Get Secret
Versions, deleted secrets, throttling and authentication pages), never from payledger's client.
Tokens are the D365 sandbox tenant's: ``create_app(settings, tokens)`` checks them with its
``TokenService``, audience ``https://vault.azure.net``.
"""

from payledger.sandbox.keyvault.app import KeyVaultSandbox, create_app
from payledger.sandbox.keyvault.store import ALL_PERMISSIONS, KeyVaultSandboxSettings

__all__ = ["ALL_PERMISSIONS", "KeyVaultSandbox", "KeyVaultSandboxSettings", "create_app"]
