"""A D365 credential that follows its secret in an external store, so rotation needs no restart.

msal keeps the client secret (or certificate) it was built with for the life of the
application object. With an external store whose values are cached for ``[vault]
cache_seconds``, this wrapper looks at the stored values before each token: when they have
changed, it builds a new credential from them and retires the old one. When D365 refuses a
token (``invalidate``), the cached values are dropped too, so a secret rotated a moment ago is
read at once instead of after the cache expires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence

from payledger.adapters.d365.auth import D365Credential
from payledger.adapters.d365.throttle import AdaptiveConcurrency
from payledger.adapters.vault.cache import CachedSecrets


class RotatingCredential:
    """Tokens from a credential rebuilt whenever the secrets it is built from change."""

    def __init__(
        self,
        vault: CachedSecrets,
        secret_names: Sequence[str],
        build: Callable[[AdaptiveConcurrency], Awaitable[D365Credential]],
    ) -> None:
        self.vault = vault
        self.secret_names = tuple(secret_names)
        self.limiter = AdaptiveConcurrency()
        self._build = build
        self._inner: D365Credential | None = None
        self._fingerprint = b""
        self._retired: list[D365Credential] = []

    async def _current(self) -> D365Credential:
        digest = hashlib.sha256()
        for name in self.secret_names:
            digest.update((await self.vault.get(name)).get_secret_value().encode())
            digest.update(b"\0")
        fingerprint = digest.digest()
        if self._inner is None or fingerprint != self._fingerprint:
            if self._inner is not None:
                self._retired.append(self._inner)  # closed at exit: a token call may be running
            self._inner = await self._build(self.limiter)
            self._fingerprint = fingerprint
        return self._inner

    async def token(self) -> str:
        return await (await self._current()).token()

    async def invalidate(self) -> None:
        """D365 refused a token: forget it and the cached secrets it was made from."""
        for name in self.secret_names:
            self.vault.forget(name)
        if self._inner is not None:
            await self._inner.invalidate()

    async def aclose(self) -> None:
        for credential in [*self._retired, *([self._inner] if self._inner else [])]:
            await credential.aclose()
