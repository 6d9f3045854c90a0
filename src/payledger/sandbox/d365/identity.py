"""HTTP endpoints of the identity provider: Entra ID tenant endpoints and AD FS.

``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/adfs/.well-known/openid-configuration``
let msal discover the token endpoint unmodified (it insists on https authorities; see
docs/sandbox-d365.md).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from payledger.sandbox.d365.auth import TokenError, TokenService
from payledger.sandbox.d365.state import SandboxState

_DEFAULT_SUFFIX = "/.default"


def base_url(state: SandboxState, request: Request) -> str:
    """The environment URL: configured, or the scheme and host the request came to."""
    if state.settings.base_url:
        return state.settings.base_url.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def _error(error: TokenError, request: Request) -> JSONResponse:
    correlation = request.headers.get("client-request-id") or str(uuid.uuid4())
    return JSONResponse(error.body(correlation), error.status)


class IdentityEndpoints:
    def __init__(self, state: SandboxState, tokens: TokenService) -> None:
        self.state = state
        self.tokens = tokens

    def routes(self) -> list[Route]:
        return [
            Route("/adfs/.well-known/openid-configuration", self.adfs_discovery, methods=["GET"]),
            Route("/adfs/discovery/keys", self.keys, methods=["GET"]),
            Route("/adfs/oauth2/token", self.adfs_token, methods=["POST"]),
            Route(
                "/{tenant}/v2.0/.well-known/openid-configuration", self.discovery, methods=["GET"]
            ),
            Route("/{tenant}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", self.keys, methods=["GET"]),
            Route("/{tenant}/discovery/keys", self.keys, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token_v2, methods=["POST"]),
            Route("/{tenant}/oauth2/token", self.token_v1, methods=["POST"]),
        ]

    def _check_tenant(self, tenant: str) -> None:
        settings = self.state.settings
        if tenant.casefold() not in (settings.tenant.casefold(), settings.tenant_id.casefold()):
            raise TokenError(
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )

    def _resource(self, request: Request, requested: str) -> str:
        """The resource a token is asked for: this environment's URL or another resource
        of the tenant (``other_resources``, e.g. Key Vault's)."""
        known = {base_url(self.state, request).casefold()}
        known |= {other.rstrip("/").casefold() for other in self.state.settings.other_resources}
        if requested.rstrip("/").casefold() not in known:
            raise TokenError(
                "invalid_resource",
                500011,
                f"The resource principal named {requested} was not found in the tenant named "
                f"{self.state.settings.tenant}.",
            )
        return requested

    async def _form(self, request: Request) -> dict[str, str]:
        self.state.stats.token_requests += 1
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type')}'.",
            )
        return form

    def _token_urls(self, request: Request, path: str) -> list[str]:
        actual = str(request.url).split("?")[0]
        return [actual, f"{base_url(self.state, request)}{path}"]

    async def _issue(self, request: Request, *, adfs: bool, v2: bool) -> JSONResponse:
        try:
            if not adfs:
                self._check_tenant(request.path_params["tenant"])
            form = await self._form(request)
            if v2 or (adfs and "scope" in form):
                scope = form.get("scope", "")
                if not scope.endswith(_DEFAULT_SUFFIX):
                    raise TokenError(
                        "invalid_scope",
                        1002012,
                        f"The provided value for scope {scope} is not valid.",
                    )
                requested = scope.removesuffix(_DEFAULT_SUFFIX)
            else:
                requested = form.get("resource", "")
            audience = self._resource(request, requested)
            client, acr = self._authenticate(request, form)
        except TokenError as error:
            return _error(error, request)
        return JSONResponse(self.tokens.issue(client, audience, acr, adfs))

    def _authenticate(self, request: Request, form: dict[str, str]) -> Any:
        urls = self._token_urls(request, request.url.path)
        last: TokenError | None = None
        for url in urls:
            try:
                return self.tokens.authenticate(form, url)
            except TokenError as error:
                last = error
        raise last or TokenError("invalid_client", 7000215, "Client authentication failed.", 401)

    async def token_v2(self, request: Request) -> JSONResponse:
        return await self._issue(request, adfs=False, v2=True)

    async def token_v1(self, request: Request) -> JSONResponse:
        return await self._issue(request, adfs=False, v2=False)

    async def adfs_token(self, request: Request) -> JSONResponse:
        return await self._issue(request, adfs=True, v2=False)

    async def discovery(self, request: Request) -> JSONResponse:
        tenant = request.path_params["tenant"]
        try:
            self._check_tenant(tenant)
        except TokenError as error:
            return _error(error, request)
        base = base_url(self.state, request)
        tenant_id = self.state.settings.tenant_id
        return JSONResponse(
            {
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "issuer": f"{base}/{tenant_id}/v2.0",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
                "tenant_region_scope": "NA",
                "cloud_instance_name": "payledger-sandbox",
            }
        )

    async def adfs_discovery(self, request: Request) -> JSONResponse:
        base = base_url(self.state, request)
        return JSONResponse(
            {
                "issuer": f"{base}/adfs",
                "authorization_endpoint": f"{base}/adfs/oauth2/authorize",
                "token_endpoint": f"{base}/adfs/oauth2/token",
                "jwks_uri": f"{base}/adfs/discovery/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "grant_types_supported": ["client_credentials"],
                "access_token_issuer": "http://adfs.sandbox/adfs/services/trust",
            }
        )

    async def keys(self, request: Request) -> JSONResponse:
        return JSONResponse(self.tokens.jwks())
