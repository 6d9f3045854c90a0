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
* otherwise the first request's final outcome (status and body) is stored and every retry gets
  it back, with ``Idempotent-Replayed: true``.

A final outcome is whatever the work answered: a :class:`Reply`, an :class:`ApiProblem` or a
:class:`~payledger.domain.errors.PayLedgerError` (answered as ``web.errors.problem_of`` says),
refusals included (404, 422, ``card_data_rejected``, ...), and a 502 ``outcome_unknown`` too:
a retry gets it again rather than risk a second charge. Only an answer that says "try again"
(409, 429, 503: busy, throttled, a dependency down) releases the key, so the same key may be
retried.

Keys are scoped per API client and kept ``[api] idempotency_ttl_hours``. A request still
running after ``[api] idempotency_lease_seconds`` died or hung: if its work announced its
effects (``run(..., announces_effects=True)`` and :meth:`Idempotency.effects_begin` before the
first one) and had not begun them, a retry takes the key over and does the work; otherwise the
retry is told 502 ``outcome_unknown`` (not stored) and nothing is redone. Work that fails
unexpectedly (any other exception) leaves its key claimed the same way, unless it announces its
effects and none had begun: then the key is released.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from payledger.bootstrap import Container
from payledger.domain.errors import PayLedgerError
from payledger.engine.idempotency import KeyClaim, KeyState, fingerprint
from payledger.stores.api_clients import ApiClient
from payledger.web.deps import ContainerDep
from payledger.web.errors import problem_of
from payledger.web.problems import ApiProblem

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TRY_AGAIN = frozenset({409, 429, 503})
"""Answers that say "try again": they release the key instead of being stored."""

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
        self._scope = ""
        self._token: datetime | None = None
        self._effects_may_have_begun = True

    async def run(
        self,
        client: ApiClient | str,
        work: Callable[[], Awaitable[Reply]],
        *,
        required: bool = True,
        announces_effects: bool = False,
    ) -> JSONResponse:
        """Do ``work`` once per key for ``client``, or answer as the draft says.

        ``announces_effects``: ``work`` calls :meth:`effects_begin` before anything it cannot
        undo (e.g. moving money), so until then its key can be taken over after a crash.
        """
        self._scope = client.name if isinstance(client, ApiClient) else client
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
        async with self.container.database.transaction() as conn:
            claim = await self.container.idempotency.claim(
                conn, self._scope, self.key, self.print, preparing=announces_effects
            )
        if claim.state is not KeyState.STARTED:
            return _answer_for(claim)
        self._token = claim.token
        self._effects_may_have_begun = not announces_effects
        reply = await self._work_once(work)
        return JSONResponse(reply.document(), status_code=reply.status)

    async def effects_begin(self) -> None:
        """Call before the work's first effect that cannot be undone (with
        ``announces_effects``); from then on a crash leaves the key's outcome unknown.

        Raises:
            ApiProblem: 409 when a retry has taken the key over (this request stalled past
                the lease): the work must stop without any effect.
        """
        if self._effects_may_have_begun or self.key is None or self._token is None:
            return
        async with self.container.database.transaction() as conn:
            held = await self.container.idempotency.begin_effects(
                conn, self._scope, self.key, self._token
            )
        if not held:
            raise ApiProblem(
                409,
                "idempotency_key_in_flight",
                f"a newer request with this {HEADER} took it over; this one did nothing",
            )
        self._effects_may_have_begun = True

    async def _work_once(self, work: Callable[[], Awaitable[Reply]]) -> Reply:
        try:
            reply = await work()
        except ApiProblem as exc:
            await self._settle(exc.status, exc.body())
            raise
        except PayLedgerError as exc:
            problem = problem_of(exc)
            await self._settle(problem.status, problem.body())
            raise problem from exc
        except Exception:
            if not self._effects_may_have_begun:
                await self._release()
            raise
        await self._store(reply.status, reply.document())
        return reply

    async def _settle(self, status: int, body: dict[str, Any]) -> None:
        """A refusal is final, and stored, unless it says "try again"."""
        if status in TRY_AGAIN:
            await self._release()
        else:
            await self._store(status, body)

    async def _store(self, status: int, body: Any) -> None:
        assert self.key is not None
        try:
            async with self.container.database.transaction() as conn:
                await self.container.idempotency.finish(
                    conn, self._scope, self.key, status, body, token=self._token
                )
        except PayLedgerError as exc:
            log.error("idempotency.finish_failed", key=self.key, client=self._scope, error=str(exc))

    async def _release(self) -> None:
        assert self.key is not None
        async with self.container.database.transaction() as conn:
            await self.container.idempotency.release(conn, self._scope, self.key, token=self._token)


def _answer_for(claim: KeyClaim) -> JSONResponse:
    """The answer to a request whose key is not its to work with."""
    if claim.state is KeyState.REPLAY:
        return JSONResponse(
            claim.response_body,
            status_code=claim.response_status or 200,
            headers={REPLAYED_HEADER: "true"},
        )
    if claim.state is KeyState.MISMATCH:
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            f"this {HEADER} was already used with a different request (body or endpoint); "
            "use a new key for a new operation",
        )
    if claim.state is KeyState.STALLED:
        raise ApiProblem(
            502,
            "outcome_unknown",
            f"the first request with this {HEADER} stopped without answering after it may "
            "have taken effect (e.g. sent a charge); its outcome is unknown and it is not "
            "repeated. Check the resource before sending the operation again with a new key.",
        )
    raise ApiProblem(
        409,
        "idempotency_key_in_flight",
        f"a request with this {HEADER} is still being processed; retry it shortly",
        headers={"Retry-After": "1"},
    )


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
