"""The access check of an external secret store: Azure Key Vault or HashiCorp Vault.

Reachable and authenticated (a listing of secret names), then each secret the enabled
connectors name is read; values are never shown, only whether they are there.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from payledger.adapters.vault import SecretNotFound
from payledger.config import Settings
from payledger.doctor.report import ACCESS, Finding, attempt, fail, ok
from payledger.domain.errors import ConfigError

if TYPE_CHECKING:
    from payledger.bootstrap import Container


def _where(settings: Settings) -> str:
    v = settings.vault
    if v.provider == "azure_key_vault":
        return f"Azure Key Vault {v.azure_key_vault.vault_url}"
    hv = v.hashicorp_vault
    return f"HashiCorp Vault {hv.url} ({hv.mount_point}/{hv.path_prefix})"


def _access_hint(settings: Settings) -> str:
    if settings.vault.provider == "azure_key_vault":
        return (
            "grant the Entra app the secrets get and list permissions (access policy or the "
            "Key Vault Secrets User role), and check [vault.azure_key_vault] and [d365] tenant"
        )
    return (
        "check the token ([vault.hashicorp_vault] token_file or VAULT_TOKEN) and that its "
        'policy grants ["read", "list"] on the KV path'
    )


async def probe_secret_store(container: Container, needed: list[str]) -> list[Finding]:
    """One finding for the store, one per secret in ``needed``."""
    settings, where = container.settings, _where(container.settings)
    listed = await attempt(container.vault.list)
    if isinstance(listed, ConfigError):
        return [fail(ACCESS, "secret store", str(listed), _access_hint(settings))]
    if isinstance(listed, Exception):
        hint = f"is {where} right and reachable from here?"
        return [fail(ACCESS, "secret store", str(listed), hint)]
    findings = [ok(ACCESS, "secret store", f"{where}: reachable, {len(listed)} secret(s) listed")]
    for name in needed:
        got = await attempt(partial(container.vault.get, name))
        if isinstance(got, SecretNotFound):
            hint = f"echo -n VALUE | payledger secrets set {name}"
            findings.append(fail(ACCESS, f"secret {name}", f"not in {where}", hint))
        elif isinstance(got, Exception):
            findings.append(fail(ACCESS, f"secret {name}", str(got), _access_hint(settings)))
        else:
            findings.append(ok(ACCESS, f"secret {name}", f"present in {where}"))
    return findings
