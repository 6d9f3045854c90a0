"""HTTP endpoints of the Vault sandbox: KV v2 data and metadata, LIST, and ``sys/health``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from payledger.sandbox.hashicorp_vault.store import Entry, VaultSandboxSettings, rfc3339

KV_METHODS = ["GET", "POST", "PUT", "DELETE", "LIST"]


class VaultError(Exception):
    """An error answer: ``{"errors": [...]}`` with an HTTP status."""

    def __init__(self, status: int, *errors: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.errors, self.headers = status, list(errors), headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": self.errors}, self.status, headers=self.headers)


def _envelope(data: Any) -> JSONResponse:
    return JSONResponse(
        {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": None,
            "auth": None,
            "mount_type": "kv",
        }
    )


class HashiCorpVaultSandbox:
    """One Vault server with KV v2 mounts."""

    def __init__(self, settings: VaultSandboxSettings) -> None:
        self.settings = settings
        self.entries: dict[tuple[str, str], Entry] = {}
        self.requests = 0

    def now(self) -> str:
        return rfc3339(datetime.now(UTC))

    def admit(self, request: Request, capability: str) -> None:
        """Sealed, token, scripted faults, then the token's policy."""
        self.requests += 1
        if self.settings.sealed:
            raise VaultError(503, "Vault is sealed")
        token = request.headers.get("x-vault-token") or ""
        bearer = request.headers.get("authorization", "")
        if not token and bearer.lower().startswith("bearer "):
            token = bearer[7:].strip()
        granted = self.settings.tokens.get(token)
        if granted is None:
            raise VaultError(403, "permission denied")
        if self.settings.fail_next:
            status = self.settings.fail_next.pop(0)
            after = {"Retry-After": str(self.settings.retry_after_s)} if status == 429 else {}
            raise VaultError(
                status,
                "rate limit quota exceeded" if status == 429 else "internal error",
                headers=after,
            )
        if capability not in granted:
            raise VaultError(403, "1 error occurred:\n\t* permission denied\n\n")

    def entry(self, mount: str, path: str) -> Entry | None:
        if mount not in self.settings.mounts:
            raise VaultError(
                404, f'no handler for route "{mount}/data/{path}". route entry not found.'
            )
        return self.entries.get((mount, path.strip("/")))


class Endpoints:
    def __init__(self, sandbox: HashiCorpVaultSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("/v1/sys/health", self.health, methods=["GET", "HEAD"]),
            Route("/v1/{mount}/data/{path:path}", self.data, methods=KV_METHODS),
            Route("/v1/{mount}/metadata/{path:path}", self.metadata, methods=KV_METHODS),
            Route("/v1/{mount}/metadata", self.metadata, methods=["GET", "LIST"]),
        ]

    async def health(self, request: Request) -> Response:
        sealed = self.sandbox.settings.sealed
        body = {
            "initialized": True,
            "sealed": sealed,
            "standby": False,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(datetime.now(UTC).timestamp()),
            "version": "1.15.6",
            "cluster_name": "vault-cluster-sandbox",
            "cluster_id": "00000000-0000-4000-8000-000000000000",
        }
        return JSONResponse(body, 503 if sealed else 200)

    async def data(self, request: Request) -> Response:
        mount, path = request.path_params["mount"], request.path_params["path"].strip("/")
        method = request.method
        capability = {"GET": "read", "DELETE": "delete", "LIST": "list"}.get(method, "update")
        try:
            if method in ("POST", "PUT"):
                existing = self.sandbox.entry(mount, path)
                self.sandbox.admit(request, "update" if existing else "create")
                return await self._write(request, mount, path, existing)
            self.sandbox.admit(request, capability)
            entry = self.sandbox.entry(mount, path)
            if method == "DELETE":
                if entry and entry.versions:
                    entry.versions[entry.current_version].deletion_time = self.sandbox.now()
                return Response(status_code=204)
            if method == "LIST":
                raise VaultError(405, "unsupported operation")
            return self._read(request, entry)
        except VaultError as error:
            return error.response()

    async def _write(
        self, request: Request, mount: str, path: str, entry: Entry | None
    ) -> Response:
        try:
            body = await request.json()
        except ValueError:
            raise VaultError(400, "failed to parse JSON input") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise VaultError(400, "no data provided")
        cas = (body.get("options") or {}).get("cas")
        current = entry.current_version if entry else 0
        if cas is not None and int(cas) != current:
            raise VaultError(400, "check-and-set parameter did not match the current version")
        now = self.sandbox.now()
        if entry is None:
            entry = self.sandbox.entries.setdefault((mount, path), Entry(now, now))
        number = entry.write(body["data"], now)
        return _envelope(entry.versions[number].metadata(number))

    def _read(self, request: Request, entry: Entry | None) -> Response:
        if entry is None or not entry.versions:
            raise VaultError(404)
        asked = request.query_params.get("version")
        number = int(asked) if asked and asked != "0" else entry.current_version
        version = entry.versions.get(number)
        if version is None:
            raise VaultError(404)
        if version.deletion_time or version.destroyed:
            body = {"data": None, "metadata": version.metadata(number)}
            return JSONResponse({"errors": [], "data": body, "request_id": str(uuid.uuid4())}, 404)
        return _envelope({"data": version.data, "metadata": version.metadata(number)})

    async def metadata(self, request: Request) -> Response:
        mount = request.path_params["mount"]
        path = request.path_params.get("path", "").strip("/")
        listing = request.method == "LIST" or (
            request.method == "GET" and request.query_params.get("list") == "true"
        )
        try:
            if listing:
                self.sandbox.admit(request, "list")
                self.sandbox.entry(mount, path)
                return self._list(mount, path)
            if request.method == "DELETE":
                self.sandbox.admit(request, "delete")
                self.sandbox.entry(mount, path)
                self.sandbox.entries.pop((mount, path), None)
                return Response(status_code=204)
            if request.method != "GET":
                raise VaultError(405, "unsupported operation")
            self.sandbox.admit(request, "read")
            entry = self.sandbox.entry(mount, path)
            if entry is None:
                raise VaultError(404)
            return _envelope(entry.metadata())
        except VaultError as error:
            return error.response()

    def _list(self, mount: str, folder: str) -> Response:
        prefix = f"{folder}/" if folder else ""
        keys: set[str] = set()
        for entry_mount, path in self.sandbox.entries:
            if entry_mount == mount and path.startswith(prefix):
                rest = path[len(prefix) :]
                head, slash, _ = rest.partition("/")
                keys.add(head + slash)
        if not keys:
            raise VaultError(404)
        return _envelope({"keys": sorted(keys)})


def create_app(settings: VaultSandboxSettings | None = None) -> Starlette:
    """The Vault ASGI app; ``app.state.sandbox`` is the :class:`HashiCorpVaultSandbox`."""
    sandbox = HashiCorpVaultSandbox(settings or VaultSandboxSettings())
    app = Starlette(routes=Endpoints(sandbox).routes())
    app.state.sandbox = sandbox
    return app
