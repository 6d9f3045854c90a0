"""Secrets in HashiCorp Vault's KV version 2 engine, through hvac with token auth.

hvac is synchronous (requests), so each call runs in a worker thread. A secret ``name`` is the
KV entry ``<mount_point>/data/<path_prefix>/<name>`` whose data is ``{"value": ...}``; a write
adds a version, a delete soft-deletes the latest version (``vault kv undelete`` restores it).
The token is read from its file or ``VAULT_TOKEN`` on first use, never from the TOML.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import hvac
import requests
from hvac import exceptions as vault_errors
from pydantic import SecretStr

from payledger.adapters.vault.provider import SecretInfo, SecretNotFound
from payledger.adapters.vault.retry import Sleep, retrying
from payledger.domain.errors import ConfigError, RateLimited, RejectedError, TransientError

SYSTEM = "hashicorp_vault"
T = TypeVar("T")
_CAPABILITY = {"get": "read", "set": "create/update", "delete": "delete", "list": "list"}


class _NotThere(Exception):
    """Vault answered 404 (no such entry, or its latest version is deleted)."""


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class HashiCorpVaultSecretProvider:
    """The vault provider for ``[vault] provider = "hashicorp_vault"``.

    Args:
        url: Vault's address.
        token: returns the Vault token (read lazily, so a missing one is reported on use).
        mount_point: the KV v2 mount, ``secret`` by default.
        path_prefix: the folder under the mount that holds payledger's secrets.
        client_options: passed to ``hvac.Client`` (``namespace``, ``verify``, ``timeout``).
    """

    def __init__(
        self,
        url: str,
        token: Callable[[], str],
        *,
        mount_point: str = "secret",
        path_prefix: str = "payledger",
        max_attempts: int = 4,
        sleep: Sleep = asyncio.sleep,
        **client_options: Any,
    ) -> None:
        self.url = url.rstrip("/")
        self.mount_point = mount_point.strip("/")
        self.path_prefix = path_prefix.strip("/")
        self.max_attempts = max_attempts
        self._token = token
        self._options = client_options
        self._client: hvac.Client | None = None
        self._sleep = sleep

    def _kv(self) -> Any:
        if self._client is None:
            self._client = hvac.Client(url=self.url, token=self._token(), **self._options)
        return self._client.secrets.kv.v2

    def _path(self, name: str) -> str:
        if not name or "/" in name or name in (".", ".."):
            raise ConfigError(f"secret name {name!r} cannot be a Vault KV entry name")
        return f"{self.path_prefix}/{name}" if self.path_prefix else name

    def _where(self, name: str = "") -> str:
        kind = "data" if name else "metadata"
        return f"{self.mount_point}/{kind}/{self._path(name) if name else self.path_prefix}"

    @contextmanager
    def _mapped(self, operation: str, name: str) -> Iterator[None]:
        where = f"HashiCorp Vault {self.url}"
        context: dict[str, Any] = {"system": SYSTEM, "operation": operation}
        try:
            yield
        except vault_errors.InvalidPath as exc:
            raise _NotThere() from exc
        except (vault_errors.Forbidden, vault_errors.Unauthorized) as exc:
            raise ConfigError(
                f"{where}: permission denied to {operation} {self._where(name)}: the token is "
                f"invalid or expired, or its policy lacks the {_CAPABILITY[operation]!r} "
                f"capability on {self.mount_point}/data/{self.path_prefix}/*"
            ) from exc
        except vault_errors.RateLimitExceeded as exc:
            raise RateLimited(f"{where} is throttling", status=429, **context) from exc
        except (
            vault_errors.InternalServerError,
            vault_errors.VaultDown,
            vault_errors.BadGateway,
            vault_errors.VaultNotInitialized,
            vault_errors.UnexpectedError,
        ) as exc:
            raise TransientError(f"{where}: {type(exc).__name__}: {exc}", **context) from exc
        except vault_errors.VaultError as exc:
            raise RejectedError(f"{where}: {type(exc).__name__}: {exc}", **context) from exc
        except requests.RequestException as exc:
            raise TransientError(f"{where}: {type(exc).__name__}", **context) from exc

    async def _call(self, operation: str, name: str, call: Callable[[Any], T]) -> T:
        def in_thread() -> T:
            with self._mapped(operation, name):
                return call(self._kv())

        async def once() -> T:
            return await asyncio.to_thread(in_thread)

        return await retrying(once, attempts=self.max_attempts, sleep=self._sleep)

    def _not_found(self, name: str) -> SecretNotFound:
        return SecretNotFound(
            f"secret {name!r} is not in HashiCorp Vault {self.url} at {self._where(name)} "
            f"(payledger secrets set {name})"
        )

    async def get(self, name: str) -> SecretStr:
        path, mount = self._path(name), self.mount_point
        try:
            answer = await self._call(
                "get",
                name,
                lambda kv: kv.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True
                ),
            )
        except _NotThere:
            raise self._not_found(name) from None
        data = (answer.get("data") or {}).get("data") or {}
        if "value" not in data:
            raise ConfigError(f"{self._where(name)} in HashiCorp Vault has no 'value' key")
        return SecretStr(str(data["value"]))

    async def set(self, name: str, value: str, *, actor: str) -> None:
        if not value:
            raise ConfigError("a secret needs a non-empty value")
        path, mount = self._path(name), self.mount_point
        await self._call(
            "set",
            name,
            lambda kv: kv.create_or_update_secret(
                path=path, secret={"value": value}, mount_point=mount
            ),
        )

    async def delete(self, name: str, *, actor: str) -> bool:
        try:
            await self.get(name)
        except SecretNotFound:
            return False
        path, mount = self._path(name), self.mount_point
        await self._call(
            "delete",
            name,
            lambda kv: kv.delete_latest_version_of_secret(path=path, mount_point=mount),
        )
        return True

    async def info(self, name: str) -> SecretInfo:
        path, mount = self._path(name), self.mount_point
        try:
            answer = await self._call(
                "get", name, lambda kv: kv.read_secret_metadata(path=path, mount_point=mount)
            )
        except _NotThere:
            raise self._not_found(name) from None
        meta = answer.get("data") or {}
        current = str(meta.get("current_version", ""))
        if (meta.get("versions") or {}).get(current, {}).get("deletion_time"):
            raise self._not_found(name)
        created, updated = _time(meta["created_time"]), _time(meta["updated_time"])
        return SecretInfo(name, created, updated if updated != created else None, current)

    async def list(self) -> list[SecretInfo]:
        prefix, mount = self.path_prefix, self.mount_point
        try:
            answer = await self._call(
                "list", "", lambda kv: kv.list_secrets(path=prefix, mount_point=mount)
            )
        except _NotThere:
            return []
        found = []
        for key in sorted((answer.get("data") or {}).get("keys") or []):
            if key.endswith("/"):
                continue
            try:
                found.append(await self.info(key))
            except SecretNotFound:
                continue  # its latest version is deleted
        return found

    async def aclose(self) -> None:
        if self._client is not None:
            self._client.adapter.close()
