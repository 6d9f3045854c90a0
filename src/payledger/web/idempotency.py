"""``Idempotency-Key`` on POST requests, with the IETF draft's semantics.

Use it in a route as a dependency, and run the route's work through it::

    @router.post("/things", status_code=201)
    async def create_thing(
        body: ThingCreate, client: WriterDep, idempotency: IdempotencyDep
    ) -> JSONResponse:
        async def work() -> Reply:
            ...
            return Reply(201, ThingPublic(...))

        return await idempotency.run(client, work)

* no key where one is required → 400 ``idempotency_key_missing``;
* the key was used with another body (or another endpoint) → 422 ``idempotency_key_reused``;
* the first request with the key is still running → 409 ``idempotency_key_in_flight``;
* otherwise the first response (status and body) is stored and every retry gets it back, with
  ``Idempotent-Replayed: true``.

Keys are scoped per API client and kept ``[api] idempotency_ttl_hours``. If the work raises an
:class:`ApiProblem` or a retryable error other than an ambiguous outcome, nothing happened, so
the key is released and the same key may be retried. Any other failure leaves the key claimed:
the work may have had an effect (money moved), and a retry must not repeat it blindly.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from payledger.bootstrap import Container
from payledger.domain.errors import AmbiguousOutcome, PayLedgerError
from payledger.engine.idempotency import KeyState, fingerprint
from payledger.stores.api_clients import ApiClient
from payledger.web.deps import ContainerDep
from payledger.web.problems import ApiProblem

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

__all__ = ["HEADER", "Idempotency", "IdempotencyDep", "Reply"]


@dataclass(frozen=True)
class Reply:
    """A response to store and send: its status and its JSON body (a model or a dict)."""

    status: int
    body: BaseModel | dict[str, Any]

    def document(self) -> Any:
        if isinstance(self.body, BaseModel):
            return self.body.model_dump(mode="json")
        return self.body


def _clean_key(raw: str | None) -> str | None:
    """The key, accepting the draft's quoted form (``"abc"``) and a bare token."""
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ApiProblem(
            400,
            "idempotency_key_invalid",
            f"the {HEADER} header must be 1-{MAX_KEY_LENGTH} printable ASCII characters, "
            'e.g. a UUID (quoted as the draft writes it, "...", or bare)',
        )
    return key


class Idempotency:
    """One request's idempotency context; see the module docstring."""

    def __init__(
        self, container: Container, key: str | None, method: str, path: str, body: Any
    ) -> None:
        self.container = container
        self.key = key
        self.print = fingerprint(method, path, body)

    async def run(
        self,
        client: ApiClient | str,
        work: Callable[[], Awaitable[Reply]],
        *,
        required: bool = True,
    ) -> JSONResponse:
        """Do ``work`` once per key for ``client``, or answer as the draft says."""
        scope = client.name if isinstance(client, ApiClient) else client
        if self.key is None:
            if required:
                raise ApiProblem(
                    400,
                    "idempotency_key_missing",
                    f"this request needs an {HEADER} header (a fresh UUID per operation; "
                    "send the same one when retrying it)",
                )
            reply = await work()
            return JSONResponse(reply.document(), status_code=reply.status)
        keys, database = self.container.idempotency, self.container.database
        async with database.transaction() as conn:
            claim = await keys.claim(conn, scope, self.key, self.print)
        if claim.state is KeyState.REPLAY:
            return JSONResponse(
                claim.response_body,
                status_code=claim.response_status or 200,
                headers={REPLAYED_HEADER: "true"},
            )
        if claim.state is KeyState.IN_FLIGHT:
            raise ApiProblem(
                409,
                "idempotency_key_in_flight",
                f"a request with this {HEADER} is still being processed; retry it shortly",
                headers={"Retry-After": "1"},
            )
        if claim.state is KeyState.MISMATCH:
            raise ApiProblem(
                422,
                "idempotency_key_reused",
                f"this {HEADER} was already used with a different request (body or endpoint); "
                "use a new key for a new operation",
            )
        reply = await self._work_once(scope, work)
        try:
            async with database.transaction() as conn:
                await keys.finish(conn, scope, self.key, reply.status, reply.document())
        except PayLedgerError as exc:
            log.error("idempotency.finish_failed", key=self.key, client=scope, error=str(exc))
        return JSONResponse(reply.document(), status_code=reply.status)

    async def _work_once(self, scope: str, work: Callable[[], Awaitable[Reply]]) -> Reply:
        assert self.key is not None
        try:
            return await work()
        except ApiProblem:
            await self._release(scope)
            raise
        except PayLedgerError as exc:
            if exc.retryable and not isinstance(exc, AmbiguousOutcome):
                await self._release(scope)
            raise

    async def _release(self, scope: str) -> None:
        assert self.key is not None
        async with self.container.database.transaction() as conn:
            await self.container.idempotency.release(conn, scope, self.key)


async def _idempotency(
    request: Request,
    container: ContainerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="A unique key per operation (e.g. a UUID); a retry with the same key "
            "and body gets the first response back instead of repeating the operation.",
        ),
    ] = None,
) -> Idempotency:
    raw = await request.body()
    try:
        body: Any = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = raw.decode("utf-8", errors="replace")
    return Idempotency(
        container, _clean_key(idempotency_key), request.method, request.url.path, body
    )


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
"""A POST's idempotency context; ``run(client, work)`` requires the key unless told not to.
List it after the auth dependency so that 401/403 come before 400."""
