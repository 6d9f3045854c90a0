"""The signing keys of one webhook source, read from the vault and kept for a short while.

Reading the vault on every delivery would cost a database round trip per request, so keys are
cached for ``ttl_s``. A secret added to the vault during a rotation is still accepted at once:
a signature that matches no cached key makes the ring re-read the vault (at most once per
``min_refresh_s``, so forged deliveries cannot hammer it) and try again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

import structlog

from payledger.web.signatures import SignatureRejected, VerifiedDelivery, secret_key, verify

log = structlog.get_logger(__name__)

LoadSecrets = Callable[[], Awaitable[dict[str, str]]]
"""Returns the secrets that exist now, by vault name (missing names are left out)."""


class NoSecrets(Exception):
    """No usable signing secret is configured; deliveries cannot be verified."""


class SecretRing:
    def __init__(
        self,
        load: LoadSecrets,
        *,
        ttl_s: float,
        min_refresh_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._monotonic = monotonic
        self._keys: list[bytes] = []
        self._loaded_at: float | None = None

    async def keys(self, *, fresh: bool = False) -> list[bytes]:
        """The usable keys, newest configuration first.

        Raises:
            NoSecrets: none of the configured secrets exists or is well-formed.
        """
        now = self._monotonic()
        stale = self._loaded_at is None or now - self._loaded_at >= self._ttl_s
        if fresh or stale or not self._keys:
            self._keys = _usable(await self._load())
            self._loaded_at = now
        if not self._keys:
            raise NoSecrets("no webhook signing secret is in the vault")
        return self._keys

    async def verify(
        self, headers: Mapping[str, str], body: bytes, *, now: float, tolerance_s: float
    ) -> VerifiedDelivery:
        """:func:`~payledger.web.signatures.verify` under the current keys, re-reading the
        vault once when nothing matches (a secret may have just been rotated in)."""
        try:
            return verify(headers, body, await self.keys(), now=now, tolerance_s=tolerance_s)
        except SignatureRejected as rejected:
            if rejected.reason != "signature_mismatch" or not self._may_refresh():
                raise
        return verify(headers, body, await self.keys(fresh=True), now=now, tolerance_s=tolerance_s)

    def _may_refresh(self) -> bool:
        return self._loaded_at is None or self._monotonic() - self._loaded_at >= self._min_refresh_s


def _usable(secrets: dict[str, str]) -> list[bytes]:
    keys = []
    for name, value in secrets.items():
        try:
            keys.append(secret_key(value))
        except ValueError as exc:
            log.warning("webhook.secret_unusable", secret_name=name, problem=str(exc))
    return keys
