"""HTTP endpoints of the Key Vault sandbox: secrets, versions, deleted secrets, control API."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from payledger.sandbox.d365.auth import TokenService
from payledger.sandbox.keyvault.store import (
    ALL_PERMISSIONS,
    RECOVERABLE_DAYS,
    KeyVaultSandboxSettings,
    Secret,
    Vault,
    Version,
)

NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_RESULTS = 25


class VaultError(Exception):
    """An error answer: ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.status == 403:
            error["innererror"] = {"code": "AccessDenied"}
        body = {"error": error}
        return JSONResponse(body, self.status, headers=self.headers)


class KeyVaultSandbox:
    """One vault, trusting the tokens of the D365 sandbox's Entra ID tenant."""

    def __init__(self, settings: KeyVaultSandboxSettings, tokens: TokenService) -> None:
        self.settings = settings
        self.tokens = tokens
        self.vault = Vault()

    def now(self) -> int:
        return int(self.tokens.state.clock.now().timestamp())

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id or self.tokens.state.settings.tenant_id

    def _challenge(self, message: str) -> VaultError:
        self.vault.unauthorized += 1
        tenant = self.tenant_id
        header = (
            f'Bearer authorization="{self.settings.authority}/{tenant}", '
            f'resource="{self.settings.resource}"'
        )
        return VaultError(401, "Unauthorized", message, **{"WWW-Authenticate": header})

    def caller(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or a 401 with Key Vault's challenge."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise self._challenge("AKV10000: Request is missing a Bearer or PoP token.")
        try:
            claims: dict[str, Any] = jwt.decode(
                authorization[7:].strip(),
                self.tokens.key.public_key(),
                algorithms=["RS256"],
                audience=[self.settings.resource, self.settings.resource + "/"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise self._challenge("AKV10022: Invalid audience.") from None
        except jwt.PyJWTError:
            raise self._challenge("AKV10032: Invalid issuer or signature.") from None
        if claims.get("exp", 0) <= self.now():
            raise self._challenge("AKV10032: Token expired.")
        if claims.get("tid") != self.tenant_id:
            raise self._challenge("AKV10032: Invalid issuer: the tenant is not the vault's.")
        return claims

    def allow(self, claims: dict[str, Any], permission: str, request: Request) -> None:
        access = self.settings.access
        granted = ALL_PERMISSIONS if access is None else access.get(claims.get("appid", ""), set())
        if permission not in granted:
            raise VaultError(
                403,
                "Forbidden",
                f"The user, group or application 'appid={claims.get('appid')};"
                f"oid={claims.get('oid')}' does not have secrets {permission} permission on "
                f"key vault '{request.url.hostname};location=sandbox'. For help resolving this "
                "issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            )

    def admit(self, request: Request, permission: str) -> None:
        """api-version, token, scripted faults and the access policy, in Key Vault's order."""
        self.vault.requests += 1
        version = request.query_params.get("api-version")
        if not version:
            raise VaultError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not re.fullmatch(r"7\.[0-5](-preview)?", version):
            raise VaultError(
                400, "BadParameter", f"The specified version ({version}) is not recognized."
            )
        claims = self.caller(request.headers.get("authorization"))
        if self.settings.fail_next:
            status = self.settings.fail_next.pop(0)
            if status == 429:
                raise VaultError(
                    429,
                    "Throttled",
                    "Request was not processed because too many requests were received. "
                    "Reason: VaultRequestTypeLimitReached",
                    **{"Retry-After": str(self.settings.retry_after_s)},
                )
            raise VaultError(status, "ServiceUnavailable", "The service is unavailable.")
        self.allow(claims, permission, request)

    def name(self, request: Request) -> str:
        name = str(request.path_params["name"])
        if not NAME.match(name):
            raise VaultError(
                400, "BadParameter", f"The request URI contains an invalid name: {name}"
            )
        return name

    def live(self, name: str) -> Secret:
        secret = self.vault.live.get(name.casefold())
        if secret is None:
            raise VaultError(
                404,
                "SecretNotFound",
                f"A secret with (name/id) {name} was not found in this key vault. If you "
                "recently deleted this secret you may be able to recover it using the correct "
                "recovery command. For help resolving this issue, please see "
                "https://go.microsoft.com/fwlink/?linkid=2125182",
            )
        return secret


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _attributes(version: Version) -> dict[str, Any]:
    return {
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": RECOVERABLE_DAYS,
    }


def _item(base: str, secret: Secret, version: Version, *, with_version: bool) -> dict[str, Any]:
    path = f"{base}/secrets/{secret.name}" + (f"/{version.id}" if with_version else "")
    item: dict[str, Any] = {"id": path, "attributes": _attributes(version)}
    if version.content_type:
        item["contentType"] = version.content_type
    if version.tags:
        item["tags"] = version.tags
    return item


def _bundle(base: str, secret: Secret, version: Version) -> dict[str, Any]:
    return {"value": version.value, **_item(base, secret, version, with_version=True)}


class Endpoints:
    def __init__(self, sandbox: KeyVaultSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("/secrets", self.list_secrets, methods=["GET"]),
            Route("/secrets/{name}", self.get_secret, methods=["GET"]),
            Route("/secrets/{name}", self.set_secret, methods=["PUT"]),
            Route("/secrets/{name}", self.delete_secret, methods=["DELETE"]),
            Route("/secrets/{name}/versions", self.list_versions, methods=["GET"]),
            Route("/secrets/{name}/{version}", self.get_version, methods=["GET"]),
            Route("/deletedsecrets/{name}", self.purge, methods=["DELETE"]),
            Route("/deletedsecrets/{name}/recover", self.recover, methods=["POST"]),
            Route("/_sandbox/fail-next", self.fail_next, methods=["POST"]),
        ]

    async def _answer(
        self, request: Request, permission: str, action: Callable[[], Awaitable[Response]]
    ) -> Response:
        try:
            self.sandbox.admit(request, permission)
            return await action()
        except VaultError as error:
            return error.response()

    async def get_secret(self, request: Request) -> Response:
        async def action() -> Response:
            secret = self.sandbox.live(self.sandbox.name(request))
            return JSONResponse(_bundle(_base(request), secret, secret.versions[-1]))

        return await self._answer(request, "get", action)

    async def get_version(self, request: Request) -> Response:
        async def action() -> Response:
            secret = self.sandbox.live(self.sandbox.name(request))
            for version in secret.versions:
                if version.id == request.path_params["version"]:
                    return JSONResponse(_bundle(_base(request), secret, version))
            raise VaultError(404, "SecretNotFound", "Secret version not found")

        return await self._answer(request, "get", action)

    async def set_secret(self, request: Request) -> Response:
        async def action() -> Response:
            name = self.sandbox.name(request)
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("value"), str):
                raise VaultError(400, "BadParameter", "Property value is required.")
            vault, key = self.sandbox.vault, name.casefold()
            if key in vault.deleted:
                raise VaultError(
                    409,
                    "Conflict",
                    f"Secret {name} is currently in a deleted but recoverable state, and its "
                    "name cannot be reused; in this state, the secret can only be recovered "
                    "or purged.",
                )
            secret = vault.live.setdefault(key, Secret(name))
            version = secret.add(
                body["value"], self.sandbox.now(), body.get("contentType"), body.get("tags")
            )
            return JSONResponse(_bundle(_base(request), secret, version))

        return await self._answer(request, "set", action)

    async def delete_secret(self, request: Request) -> Response:
        async def action() -> Response:
            secret = self.sandbox.live(self.sandbox.name(request))
            vault, now = self.sandbox.vault, self.sandbox.now()
            secret.deleted_date = now
            vault.deleted[secret.name.casefold()] = vault.live.pop(secret.name.casefold())
            base = _base(request)
            purge = now + int(timedelta(days=RECOVERABLE_DAYS).total_seconds())
            body = {
                "recoveryId": f"{base}/deletedsecrets/{secret.name}",
                "deletedDate": now,
                "scheduledPurgeDate": purge,
                **_item(base, secret, secret.versions[-1], with_version=True),
            }
            return JSONResponse(body)

        return await self._answer(request, "delete", action)

    def _page(self, request: Request, items: list[dict[str, Any]], path: str) -> JSONResponse:
        size = int(request.query_params.get("maxresults") or self.sandbox.settings.page_size)
        size = max(1, min(size, MAX_RESULTS))
        start = int(request.query_params.get("$skiptoken") or 0)
        end = start + size
        next_link = None
        if end < len(items):
            next_link = f"{_base(request)}{path}?api-version=7.4&$skiptoken={end}&maxresults={size}"
        return JSONResponse({"value": items[start:end], "nextLink": next_link})

    async def list_secrets(self, request: Request) -> Response:
        async def action() -> Response:
            base = _base(request)
            secrets = sorted(self.sandbox.vault.live.values(), key=lambda s: s.name.casefold())
            items = [_item(base, s, s.versions[-1], with_version=False) for s in secrets]
            return self._page(request, items, "/secrets")

        return await self._answer(request, "list", action)

    async def list_versions(self, request: Request) -> Response:
        async def action() -> Response:
            secret = self.sandbox.live(self.sandbox.name(request))
            base = _base(request)
            items = [_item(base, secret, v, with_version=True) for v in secret.versions]
            return self._page(request, items, f"/secrets/{secret.name}/versions")

        return await self._answer(request, "list", action)

    async def purge(self, request: Request) -> Response:
        async def action() -> Response:
            if self.sandbox.vault.deleted.pop(self.sandbox.name(request).casefold(), None):
                return Response(status_code=204)
            raise VaultError(404, "SecretNotFound", "Deleted secret not found.")

        return await self._answer(request, "purge", action)

    async def recover(self, request: Request) -> Response:
        async def action() -> Response:
            vault = self.sandbox.vault
            secret = vault.deleted.pop(self.sandbox.name(request).casefold(), None)
            if secret is None:
                raise VaultError(404, "SecretNotFound", "Deleted secret not found.")
            secret.deleted_date = None
            vault.live[secret.name.casefold()] = secret
            return JSONResponse(
                _item(_base(request), secret, secret.versions[-1], with_version=True)
            )

        return await self._answer(request, "recover", action)

    async def fail_next(self, request: Request) -> Response:
        body = await request.json()
        self.sandbox.settings.fail_next.extend(int(status) for status in body.get("statuses", []))
        if "retry_after_s" in body:
            self.sandbox.settings.retry_after_s = int(body["retry_after_s"])
        return JSONResponse({"fail_next": self.sandbox.settings.fail_next})


def create_app(settings: KeyVaultSandboxSettings | None, tokens: TokenService) -> Starlette:
    """The vault ASGI app; ``app.state.sandbox`` is the :class:`KeyVaultSandbox` behind it."""
    sandbox = KeyVaultSandbox(settings or KeyVaultSandboxSettings(), tokens)
    app = Starlette(routes=Endpoints(sandbox).routes())
    app.state.sandbox = sandbox
    return app
