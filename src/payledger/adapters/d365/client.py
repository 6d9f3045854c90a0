"""The async OData client for one F&O environment: auth, throttling, retries, CRUD, batch.

Retries happen only where they are safe: 429 (after ``Retry-After``), 5xx without an X++ write
error, and failures before the request was sent. A write whose answer was lost raises
:class:`AmbiguousOutcome`; :meth:`D365Client.create_once` re-reads by a natural key before it
tries again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from payledger.adapters.d365.auth import D365Credential
from payledger.adapters.d365.batch import BatchRequest, BatchResponse, parse_batch_response
from payledger.adapters.d365.errors import SYSTEM, WritesDisabled, map_errors
from payledger.adapters.d365.metadata import ServiceMetadata, parse_metadata
from payledger.adapters.d365.odata import (
    NAMESPACE,
    NextLinkPaginator,
    ODataQuery,
    dumps,
    key_path,
    loads,
)
from payledger.adapters.d365.throttle import RetryPolicy
from payledger.domain.errors import AmbiguousOutcome, RateLimited, TransientError
from payledger.tracing.http import traced_transport

_JSON = "application/json;odata.metadata=minimal"


@dataclass(frozen=True)
class D365Record:
    """An entity as read or created: its values and its ETag."""

    values: dict[str, Any]
    etag: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


@dataclass(frozen=True)
class ODataPage:
    rows: list[dict[str, Any]]
    count: int | None = None
    next_link: str | None = None


class D365Client:
    """Async client for ``{base_url}/data``.

    Args:
        base_url: the environment URL, e.g. ``https://contoso.operations.dynamics.com``.
        credential: where bearer tokens come from; its ``limiter`` throttles this client.
        transport: httpx transport (tests pass ``httpx.ASGITransport``).
        verify: TLS verification (bool, CA bundle path or ``ssl.SSLContext``).
        timeout: httpx timeout; writes that time out become ``AmbiguousOutcome``.
        retry: attempts and backoff for safe retries.
        max_page_size: sent as ``Prefer: odata.maxpagesize`` (F&O pages at 10,000 anyway).
        read_only: refuse every write before it is sent (shadow mode), with
            :class:`WritesDisabled`.
    """

    def __init__(
        self,
        base_url: str,
        credential: D365Credential,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float | httpx.Timeout = 120.0,
        retry: RetryPolicy | None = None,
        max_page_size: int | None = None,
        read_only: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_only = read_only
        self.service_root = f"{self.base_url}/data"
        self.credential = credential
        self.retry = retry or RetryPolicy()
        self._headers = {
            "OData-Version": "4.0",
            "OData-MaxVersion": "4.0",
            "Accept": "application/json",
        }
        if max_page_size:
            self._headers["Prefer"] = f"odata.maxpagesize={max_page_size}"
        self._http = httpx.AsyncClient(
            transport=traced_transport(transport, system="d365", verify=verify),
            verify=verify,
            timeout=timeout,
        )
        self._metadata: ServiceMetadata | None = None
        self._rng = random.Random()

    async def __aenter__(self) -> D365Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.service_root}/{path}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        write: bool = False,
        params: Sequence[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with auth, the shared concurrency limit and safe retries; errors are mapped.

        A 401 is answered once by dropping the cached token and asking for a new one.
        """
        if write and self.read_only:
            raise WritesDisabled(
                f"D365 {operation}: not sent: payledger runs in shadow mode "
                '(posting.mode = "shadow") and writes nothing to D365',
                system=SYSTEM,
                operation=operation,
            )
        limiter = self.credential.limiter
        refreshed = False
        failures = throttled = 0
        while True:
            try:
                response = await self._send_once(
                    method, path, operation, write, params, content, headers or {}, not refreshed
                )
            except RateLimited as exc:
                limiter.on_throttled(exc.retry_after or self.retry.default_retry_after_s)
                throttled += 1
                if throttled >= self.retry.max_throttled_attempts:
                    raise
                continue
            except TransientError:
                failures += 1
                if failures >= self.retry.max_attempts:
                    raise
                await asyncio.sleep(self.retry.backoff(failures, self._rng))
                continue
            if response is not None:
                return response
            refreshed = True
            await self.credential.invalidate()

    async def _send_once(
        self,
        method: str,
        path: str,
        operation: str,
        write: bool,
        params: Sequence[tuple[str, str]] | None,
        content: bytes | None,
        headers: Mapping[str, str],
        may_refresh: bool,
    ) -> httpx.Response | None:
        """One attempt; None means 401 that a fresh token may cure (``may_refresh``)."""
        token = await self.credential.token()
        merged = {**self._headers, **headers, "Authorization": f"Bearer {token}"}
        # httpx takes a tuple (covariant) where a list[tuple[str, str]] would not type-check.
        query = None if params is None else tuple(params)
        async with self.credential.limiter.slot():
            with map_errors(operation, write=write):
                response = await self._http.request(
                    method, self.url(path), params=query, content=content, headers=merged
                )
                if response.status_code == 401 and may_refresh:
                    return None
                response.raise_for_status()
        self.credential.limiter.on_success()
        return response

    async def _json(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, operation=operation, **kwargs)
        return _decode(response, operation, write=kwargs.get("write", False))

    async def metadata(self, *, refresh: bool = False) -> ServiceMetadata:
        """The parsed ``$metadata`` (cached; the real document is several MiB)."""
        if self._metadata is None or refresh:
            response = await self.request("GET", "$metadata", operation="metadata")
            self._metadata = parse_metadata(response.content)
        return self._metadata

    async def get(
        self, entity_set: str, key: Mapping[str, Any], *, select: tuple[str, ...] = ()
    ) -> D365Record:
        params = [("cross-company", "true")] + ([("$select", ",".join(select))] if select else [])
        payload = await self._json(
            "GET", key_path(entity_set, key), operation=f"get {entity_set}", params=params
        )
        return _record(payload)

    async def query_page(self, query: ODataQuery | str) -> ODataPage:
        """One page: the query's first page, or the page a ``nextLink`` URL points at."""
        if isinstance(query, str):
            payload = await self._json("GET", query, operation="query next page")
        else:
            payload = await self._json(
                "GET",
                query.entity_set,
                operation=f"query {query.entity_set}",
                params=query.params(),
            )
        return ODataPage(
            payload.get("value", []), payload.get("@odata.count"), payload.get("@odata.nextLink")
        )

    async def iterate(self, query: ODataQuery) -> AsyncIterator[dict[str, Any]]:
        """Every matching row, following ``@odata.nextLink`` until the last page."""
        paginator = NextLinkPaginator()
        while paginator.has_next_page:
            page = await self.query_page(paginator.next_url or query)
            paginator.update_state({"@odata.nextLink": page.next_link})
            for row in page.rows:
                yield row

    async def collect(self, query: ODataQuery) -> list[dict[str, Any]]:
        return [row async for row in self.iterate(query)]

    async def first(self, query: ODataQuery) -> dict[str, Any] | None:
        page = await self.query_page(query.top(1))
        return page.rows[0] if page.rows else None

    async def count(self, query: ODataQuery) -> int:
        params = [p for p in query.params() if p[0] not in ("$top", "$skip", "$select", "$orderby")]
        response = await self.request(
            "GET",
            f"{query.entity_set}/$count",
            operation=f"count {query.entity_set}",
            params=params,
        )
        return int(response.text.strip())

    async def create(self, entity_set: str, body: Mapping[str, Any]) -> D365Record:
        """POST a new row; the answer (201) carries server-assigned values and the ETag."""
        response = await self.request(
            "POST",
            entity_set,
            operation=f"create {entity_set}",
            write=True,
            content=dumps(body),
            headers={"Content-Type": _JSON},
        )
        payload = _decode(response, f"create {entity_set}", write=True)
        return _record(payload, _etag(response))

    async def update(
        self,
        entity_set: str,
        key: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        etag: str | None = None,
    ) -> str | None:
        """PATCH; with ``etag`` the change applies only if nobody changed the row since."""
        headers = {"Content-Type": _JSON, **({"If-Match": etag} if etag else {})}
        response = await self.request(
            "PATCH",
            key_path(entity_set, key),
            operation=f"update {entity_set}",
            write=True,
            params=[("cross-company", "true")],
            content=dumps(changes),
            headers=headers,
        )
        return _etag(response)

    async def delete(
        self, entity_set: str, key: Mapping[str, Any], *, etag: str | None = None
    ) -> None:
        await self.request(
            "DELETE",
            key_path(entity_set, key),
            operation=f"delete {entity_set}",
            write=True,
            params=[("cross-company", "true")],
            headers={"If-Match": etag} if etag else None,
        )

    async def action(self, entity_set: str, key: Mapping[str, Any], name: str) -> Any:
        """Invoke a bound action ``Microsoft.Dynamics.DataEntities.<name>`` on one row."""
        path = f"{key_path(entity_set, key)}/{NAMESPACE}.{name}"
        payload = await self._json(
            "POST",
            path,
            operation=f"{name} {entity_set}",
            write=True,
            params=[("cross-company", "true")],
            content=b"{}",
            headers={"Content-Type": _JSON},
        )
        return payload.get("value") if isinstance(payload, dict) else payload

    async def batch(self, batch: BatchRequest) -> BatchResponse:
        """Send a ``$batch``; the answer is 200 even if a changeset failed: check each one."""
        content_type, body = batch.encode(self.service_root)
        response = await self.request(
            "POST",
            "$batch",
            operation=f"batch of {batch.operation_count}",
            write=True,
            content=body,
            headers={"Content-Type": content_type},
        )
        with map_errors("batch"):
            try:
                return parse_batch_response(
                    response.headers.get("Content-Type", ""), response.content
                )
            except (ValueError, IndexError) as exc:
                raise TransientError(
                    f"D365 batch: unreadable answer: {exc}", system=SYSTEM
                ) from exc

    async def create_once(
        self,
        entity_set: str,
        body: Mapping[str, Any],
        natural_key: ODataQuery,
        *,
        attempts: int = 3,
    ) -> D365Record:
        """Create a row exactly once: after a lost answer, look it up by ``natural_key`` first."""
        for attempt in range(1, attempts + 1):
            try:
                return await self.create(entity_set, body)
            except AmbiguousOutcome:
                existing = await self.first(natural_key)
                if existing is not None:
                    return _record(existing)
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")


def _decode(response: httpx.Response, operation: str, *, write: bool = False) -> Any:
    """The JSON body (decimals exact). A garbled answer is transient for a read and, since
    the write went through, an ambiguous outcome for a write."""
    if not response.content:
        return None
    try:
        return loads(response.content)
    except ValueError as exc:
        error = AmbiguousOutcome if write else TransientError
        raise error(
            f"D365 {operation}: answer is not JSON",
            system=SYSTEM,
            operation=operation,
            status=response.status_code,
        ) from exc


def _etag(response: httpx.Response) -> str | None:
    etag: str | None = response.headers.get("ETag")  # httpx types Headers.get as Any
    return etag


def _record(payload: Mapping[str, Any], etag: str | None = None) -> D365Record:
    values = {k: v for k, v in payload.items() if not k.startswith("@odata.")}
    return D365Record(values, etag or payload.get("@odata.etag"))
