"""Bearer tokens for F&O: Entra ID through msal (secret or certificate) and AD FS on-premises.

msal is synchronous and insists on an ``https`` authority. It runs in a worker thread and does
its HTTP through :class:`MsalHttpBridge`, which hands each call back to this event loop's
``httpx.AsyncClient`` (so tests and the sandbox share one transport). Instance discovery (a
call to login.microsoftonline.com) is switched off unless the authority is Microsoft's own.

Each credential owns the :class:`AdaptiveConcurrency` limit that every request made with its
tokens shares: F&O throttles per user, i.e. per credential.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
import msal
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payledger.adapters.d365.errors import SYSTEM, map_errors
from payledger.adapters.d365.throttle import AdaptiveConcurrency
from payledger.domain.errors import AuthError
from payledger.tracing.http import traced_transport

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"


class D365Credential(Protocol):
    """Where a client gets bearer tokens; ``limiter`` is shared by all its requests."""

    limiter: AdaptiveConcurrency

    async def token(self) -> str: ...

    async def invalidate(self) -> None: ...

    async def aclose(self) -> None: ...


class _MsalClientApp(Protocol):
    """The part of ``msal.ConfidentialClientApplication`` used here (msal ships no types)."""

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]: ...

    def remove_tokens_for_client(self) -> None: ...


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate registered on the Entra app: PEM private key and PEM certificate."""

    private_key_pem: str
    certificate_pem: str
    passphrase: str | None = None

    def msal_credential(self) -> dict[str, Any]:
        credential: dict[str, Any] = {
            "private_key": self.private_key_pem,
            "public_certificate": self.certificate_pem,
        }
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential


@dataclass(frozen=True)
class CertificateInfo:
    """What identifies a client certificate: its subject, SHA-1 thumbprint and validity."""

    subject: str
    thumbprint: str
    """Upper-case hex, as the Entra app registration shows it."""
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime) -> int:
        return (self.not_after - now).days


def _certificate_error(message: str) -> AuthError:
    return AuthError(f"D365 client certificate: {message}", system=SYSTEM, operation="token")


def _public_der(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_certificate(certificate: ClientCertificate, now: datetime) -> CertificateInfo:
    """The certificate's identity, once its PEM parses, its RSA key matches and it is valid now.

    Raises:
        AuthError: naming what is wrong (never quoting the key): not PEM, not RSA, a key that
            does not match, not yet valid or expired.
    """
    try:
        cert = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    except ValueError:
        raise _certificate_error("the certificate is not a PEM X.509 certificate") from None
    passphrase = certificate.passphrase.encode() if certificate.passphrase else None
    try:
        key = serialization.load_pem_private_key(
            certificate.private_key_pem.encode(), password=passphrase
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        message = "the private key is not a PEM private key (or needs another passphrase)"
        raise _certificate_error(message) from None
    sha1 = hashes.SHA1()  # noqa: S303 - the thumbprint Entra ID shows, not a signature
    info = CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        thumbprint=cert.fingerprint(sha1).hex().upper(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    cert_key = cert.public_key()
    if not isinstance(key, rsa.RSAPrivateKey) or not isinstance(cert_key, rsa.RSAPublicKey):
        raise _certificate_error("Entra ID client assertions need an RSA certificate and key")
    if _public_der(key.public_key()) != _public_der(cert_key):
        raise _certificate_error(
            f"the private key does not match certificate {info.thumbprint} ({info.subject})"
        )
    if now < info.not_before:
        raise _certificate_error(
            f"certificate {info.thumbprint} ({info.subject}) is not valid before "
            f"{info.not_before:%Y-%m-%d %H:%M} UTC"
        )
    if now >= info.not_after:
        raise _certificate_error(
            f"certificate {info.thumbprint} ({info.subject}) expired on "
            f"{info.not_after:%Y-%m-%d %H:%M} UTC"
        )
    return info


class MsalHttpBridge:
    """The ``http_client`` msal calls from its worker thread, served by an async httpx client."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items() if v is not None}
        request = self._client.request(method, url, headers=headers, **kwargs)
        return asyncio.run_coroutine_threadsafe(request, self._loop).result()

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any
    ) -> httpx.Response:
        if isinstance(data, dict):
            # msal hands over client assertions as bytes; requests form-encodes them as text.
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self._call("POST", url, params=params, data=data, headers=headers)

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        return self._call("GET", url, params=params, headers=headers)

    def close(self) -> None:
        """msal may close its client; the async client is closed by the credential."""


def _http_client(
    transport: httpx.AsyncBaseTransport | None, verify: Any, timeout: float
) -> httpx.AsyncClient:
    traced = traced_transport(transport, system="entra", verify=verify)
    return httpx.AsyncClient(transport=traced, verify=verify, timeout=timeout)


class EntraIdCredential:
    """Client-credentials tokens from an Entra ID tenant, cached by msal until near expiry.

    Args:
        tenant: tenant id or domain (use the tenant, not ``organizations``).
        client_id: the Entra app's client id.
        resource: the F&O environment URL; the scope asked for is ``<resource>/.default``.
        client_secret: the app secret, or
        certificate: a :class:`ClientCertificate` (client assertion).
        authority_host: ``https://login.microsoftonline.com`` or the sandbox's https URL.
        token_cache: an msal token cache to share or persist; a fresh one otherwise.
        transport: httpx transport for the identity calls (tests pass an ASGI transport).
        verify: TLS verification for the identity calls (path or SSLContext for a sandbox).
        limiter: the concurrency limit shared by requests made with this credential.
    """

    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        resource: str,
        client_secret: str | None = None,
        certificate: ClientCertificate | None = None,
        authority_host: str = MICROSOFT_AUTHORITY,
        token_cache: msal.TokenCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float = 30.0,
        limiter: AdaptiveConcurrency | None = None,
    ) -> None:
        if (client_secret is None) == (certificate is None):
            raise ValueError("give exactly one of client_secret and certificate")
        self.authority = f"{authority_host.rstrip('/')}/{tenant}"
        self.client_id = client_id
        self.scope = f"{resource.rstrip('/')}/.default"
        self._credential: Any = (
            client_secret if certificate is None else certificate.msal_credential()
        )
        self._cache = token_cache or msal.TokenCache()
        self._http = _http_client(transport, verify, timeout)
        self._app: _MsalClientApp | None = None
        self._lock: asyncio.Lock | None = None
        self.limiter = limiter or AdaptiveConcurrency()
        self.requests = 0

    def _build_app(self, loop: asyncio.AbstractEventLoop) -> _MsalClientApp:
        microsoft = self.authority.startswith(MICROSOFT_AUTHORITY)
        app: _MsalClientApp = msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self._credential,
            authority=self.authority,
            token_cache=self._cache,
            http_client=MsalHttpBridge(self._http, loop),
            instance_discovery=None if microsoft else False,
        )
        return app

    async def token(self) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            loop = asyncio.get_running_loop()
            with map_errors("token"):
                try:
                    if self._app is None:
                        self._app = await asyncio.to_thread(self._build_app, loop)
                    result = await asyncio.to_thread(
                        self._app.acquire_token_for_client, scopes=[self.scope]
                    )
                except ValueError as exc:
                    raise AuthError(
                        f"Entra ID authority {self.authority}: {exc}",
                        system=SYSTEM,
                        operation="token",
                    ) from exc
        if "access_token" not in result:
            raise AuthError(
                f"Entra ID refused client {self.client_id}: {result.get('error')}: "
                f"{str(result.get('error_description', '')).splitlines()[0]}",
                system=SYSTEM,
                operation="token",
            )
        if result.get("token_source") == "identity_provider":
            self.requests += 1
        return str(result["access_token"])

    async def invalidate(self) -> None:
        """Forget cached tokens (after F&O answered 401 to one)."""
        if self._app is not None:
            await asyncio.to_thread(self._app.remove_tokens_for_client)

    async def aclose(self) -> None:
        await self._http.aclose()


class AdfsCredential:
    """Client-credentials tokens from AD FS for on-premises F&O (``resource=`` form).

    Args:
        adfs_url: the AD FS root, e.g. ``https://adfs.contoso.com/adfs``.
        client_id, client_secret: the application group's server application.
        resource: the AOS URL, which becomes the token audience.
    """

    def __init__(
        self,
        *,
        adfs_url: str,
        client_id: str,
        client_secret: str,
        resource: str,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float = 30.0,
        refresh_margin_s: float = 300.0,
        limiter: AdaptiveConcurrency | None = None,
    ) -> None:
        self.token_url = f"{adfs_url.rstrip('/')}/oauth2/token"
        self.client_id = client_id
        self._secret = client_secret
        self.resource = resource.rstrip("/")
        self._http = _http_client(transport, verify, timeout)
        self._margin = refresh_margin_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock: asyncio.Lock | None = None
        self.limiter = limiter or AdaptiveConcurrency()
        self.requests = 0

    async def token(self) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at - self._margin:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
                "resource": self.resource,
            }
            with map_errors("token"):
                response = await self._http.post(self.token_url, data=form)
            self.requests += 1
            try:
                body = response.json() if response.content else {}
            except ValueError:
                body = {}
            if response.status_code != 200 or "access_token" not in body:
                raise AuthError(
                    f"AD FS refused client {self.client_id}: HTTP {response.status_code} "
                    f"{body.get('error', '')}: {body.get('error_description', '')}",
                    system=SYSTEM,
                    operation="token",
                    status=response.status_code,
                )
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body.get("expires_in", 3600))
            return self._token

    async def invalidate(self) -> None:
        self._token = None

    async def aclose(self) -> None:
        await self._http.aclose()
