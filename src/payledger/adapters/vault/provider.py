"""The secret provider port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import SecretStr

from payledger.domain.errors import ConfigError


class SecretNotFound(ConfigError):
    """The configuration refers to a secret the vault does not hold."""


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a secret: never its value."""

    name: str
    created_at: datetime
    rotated_at: datetime | None
    version: str | None = None
    """The store's version id (Key Vault, HashiCorp Vault); None for the database."""


class SecretProvider(Protocol):
    """Stores and returns secrets by name."""

    async def get(self, name: str) -> SecretStr:
        """The secret's value, wrapped so it never shows in reprs or logs.

        Raises:
            SecretNotFound: no secret has that name.
            ConfigError: the value cannot be decrypted (wrong master key or corruption).
        """
        ...

    async def set(self, name: str, value: str, *, actor: str) -> None:
        """Store ``value`` under ``name``; a store that keeps versions adds one."""
        ...

    async def delete(self, name: str, *, actor: str) -> bool:
        """Delete the secret; False when there was none."""
        ...

    async def info(self, name: str) -> SecretInfo:
        """What may be shown about one secret (never its value).

        Raises:
            SecretNotFound: no secret has that name.
        """
        ...

    async def list(self) -> list[SecretInfo]: ...
