"""Values of an external secret store, reused for a while so every job does not ask again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr

from payledger.adapters.vault.provider import SecretInfo, SecretProvider
from payledger.domain.clock import Clock


@dataclass(frozen=True)
class _Entry:
    value: SecretStr
    expires_at: datetime


class CachedSecrets:
    """A :class:`SecretProvider` that keeps each value read for ``ttl``.

    A secret rotated in the store is used once its entry expires, without a restart;
    :meth:`forget` drops an entry early (e.g. after the vendor refused the old value).
    Writes and deletes through this object drop the entry at once.
    """

    def __init__(self, inner: SecretProvider, ttl: timedelta, clock: Clock) -> None:
        self.inner = inner
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    async def get(self, name: str) -> SecretStr:
        entry = self._entries.get(name)
        if entry is not None and self.clock.now() < entry.expires_at:
            return entry.value
        value = await self.inner.get(name)
        self._entries[name] = _Entry(value, self.clock.now() + self.ttl)
        return value

    def forget(self, name: str | None = None) -> None:
        """Drop one cached value, or all of them."""
        if name is None:
            self._entries.clear()
        else:
            self._entries.pop(name, None)

    async def set(self, name: str, value: str, *, actor: str) -> None:
        self.forget(name)
        await self.inner.set(name, value, actor=actor)

    async def delete(self, name: str, *, actor: str) -> bool:
        self.forget(name)
        return await self.inner.delete(name, actor=actor)

    async def info(self, name: str) -> SecretInfo:
        return await self.inner.info(name)

    async def list(self) -> list[SecretInfo]:
        return await self.inner.list()

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()
