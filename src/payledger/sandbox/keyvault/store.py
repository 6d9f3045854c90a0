"""The Key Vault sandbox's settings and its versioned, soft-deletable secrets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

ALL_PERMISSIONS = frozenset({"get", "list", "set", "delete", "recover", "purge"})
RECOVERABLE_DAYS = 90


@dataclass
class KeyVaultSandboxSettings:
    """What the vault is told at start; tests change the fields at run time.

    Attributes:
        resource: the token audience Key Vault accepts.
        tenant_id: the vault's tenant; None: the token issuer's (another one refuses tokens).
        authority: the login host named in the 401 challenge.
        access: an access policy per client id (permissions such as ``get``, ``set``);
            None lets every token of the tenant do everything.
        page_size: ``maxresults`` when none (or more than 25) is asked for.
        fail_next: statuses the next requests are answered with (429 carries
            ``Retry-After: retry_after_s``), popped one per request.
    """

    resource: str = "https://vault.azure.net"
    tenant_id: str | None = None
    authority: str = "https://login.microsoftonline.com"
    access: dict[str, set[str]] | None = None
    page_size: int = 25
    fail_next: list[int] = field(default_factory=list)
    retry_after_s: int = 1


@dataclass
class Version:
    """One version of a secret."""

    id: str
    value: str
    created: int
    updated: int
    content_type: str | None = None
    tags: dict[str, str] | None = None
    enabled: bool = True


@dataclass
class Secret:
    """A secret: its name as first written, and its versions, newest last."""

    name: str
    versions: list[Version] = field(default_factory=list)
    deleted_date: int | None = None

    def add(
        self, value: str, now: int, content_type: str | None, tags: dict[str, str] | None
    ) -> Version:
        version = Version(uuid.uuid4().hex, value, now, now, content_type, tags)
        self.versions.append(version)
        return version


@dataclass
class Vault:
    """Live secrets and deleted (recoverable) ones, keyed by case-folded name."""

    live: dict[str, Secret] = field(default_factory=dict)
    deleted: dict[str, Secret] = field(default_factory=dict)
    requests: int = 0
    unauthorized: int = 0
