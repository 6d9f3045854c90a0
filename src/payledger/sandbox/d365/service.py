"""The OData service under ``/data``: routes one request to reads, writes or actions.

It is independent of the web framework so that ``$batch`` can run its parts through the same
code as stand-alone requests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from payledger.sandbox.d365.catalog import NAMESPACE, EntityType
from payledger.sandbox.d365.csdl import render_csdl
from payledger.sandbox.d365.errors import ODataError, bad_request, not_found
from payledger.sandbox.d365.journals import post_journal
from payledger.sandbox.d365.query import QueryOptions, parse_key, parse_options
from payledger.sandbox.d365.reads import (
    ReadContext,
    collection,
    entity_url,
    find_record,
    full_values,
    matching_rows,
    single,
)
from payledger.sandbox.d365.rules import WriteContext
from payledger.sandbox.d365.state import SandboxState
from payledger.sandbox.d365.values import dumps, loads, to_json
from payledger.sandbox.d365.writes import create, delete, update

JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE", "MERGE"}


@dataclass
class ODataRequest:
    method: str
    path: str
    """Path below the service root, e.g. ``CustomersV3(dataAreaId='usmf',...)``."""
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    base_url: str
    company: str
    in_batch: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class ODataResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> ODataResponse:
        return cls(status, dumps(payload), {"Content-Type": JSON_TYPE, **(headers or {})})

    @classmethod
    def error(cls, error: ODataError) -> ODataResponse:
        return cls.json(error.status, error.body(), error.headers)


@dataclass
class Resource:
    entity: EntityType | None
    key: str | None = None
    tail: list[str] = field(default_factory=list)


def split_resource_path(path: str) -> tuple[str, str | None, list[str]]:
    """``Set(key)/A/B`` -> (``Set``, ``key``, [``A``, ``B``]); quotes may hide ``/`` and ``)``."""
    name_end = len(path)
    for index, char in enumerate(path):
        if char in "(/":
            name_end = index
            break
    name, rest, key = path[:name_end], path[name_end:], None
    if rest.startswith("("):
        quoted, depth = False, 0
        for index, char in enumerate(rest):
            quoted = not quoted if char == "'" else quoted
            if not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")":
                depth -= 1
                if depth == 0:
                    key, rest = rest[1:index], rest[index + 1 :]
                    break
        else:
            raise bad_request(f"Bad Request - Error in query syntax: '{path}'.")
    return name, key, [part for part in rest.split("/") if part]


class ODataService:
    """Handles one OData request synchronously against the sandbox state."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: ODataRequest) -> ODataResponse:
        try:
            response = self._route(request)
        except ODataError as error:
            response = ODataResponse.error(error)
        response.headers.setdefault("OData-Version", "4.0")
        response.headers["ms-dyn-aid"] = str(uuid.uuid4())
        return response

    def _route(self, request: ODataRequest) -> ODataResponse:
        path = request.path.strip("/")
        if path == "":
            return self._service_document(request)
        if path == "$metadata":
            xml = render_csdl(self.state.catalog, self.state.settings)
            return ODataResponse(200, xml.encode(), {"Content-Type": "application/xml"})
        name, key, tail = split_resource_path(path)
        entity = self.state.catalog.entities.get(name)
        if entity is None:
            raise not_found(name)
        params = dict(request.params)
        navigating = key is not None and bool(tail) and tail[0] in entity.navigations
        options = parse_options(
            params,
            None if navigating else entity,
            self.state.catalog,
            self.state.settings.filter_functions,
        )
        ctx = WriteContext(self.state, request.company, request.in_batch)
        read = ReadContext(
            ctx, request.base_url, "odata.metadata=full" in (request.header("accept") or "")
        )
        if key is None:
            return self._collection_route(request, entity, tail, options, read)
        record = find_record(
            read, entity, parse_key(key, entity, self.state.catalog), options.cross_company
        )
        if record is None:
            raise not_found(name)
        if tail:
            return self._below_entity(request, entity, record, tail, options, read)
        return self._entity_route(request, entity, record, options, read)

    def _service_document(self, request: ODataRequest) -> ODataResponse:
        sets = [
            {"name": name, "kind": "EntitySet", "url": name} for name in self.state.catalog.entities
        ]
        return ODataResponse.json(
            200, {"@odata.context": f"{request.base_url}/data/$metadata", "value": sets}
        )

    def _collection_route(
        self,
        request: ODataRequest,
        entity: EntityType,
        tail: list[str],
        options: QueryOptions,
        read: ReadContext,
    ) -> ODataResponse:
        if tail == ["$count"] and request.method == "GET":
            count = len(matching_rows(read, entity, options))
            return ODataResponse(200, str(count).encode(), {"Content-Type": "text/plain"})
        if tail:
            raise not_found(tail[0])
        if request.method == "GET":
            payload = collection(
                read, entity, options, self._page_size(request), entity.set_name, request.params
            )
            return ODataResponse.json(200, payload)
        if request.method == "POST":
            record = create(read.write, entity, _json_body(request))
            return self._created(read, entity, record)
        return _method_not_allowed()

    def _created(self, read: ReadContext, entity: EntityType, record: Any) -> ODataResponse:
        payload = single(read, entity, record, QueryOptions())
        headers = {
            "ETag": record.etag(entity.datasources),
            "Location": entity_url(read, entity, full_values(read, entity, record)),
        }
        return ODataResponse.json(201, payload, headers)

    def _entity_route(
        self,
        request: ODataRequest,
        entity: EntityType,
        record: Any,
        options: QueryOptions,
        read: ReadContext,
    ) -> ODataResponse:
        if request.method == "GET":
            payload = single(read, entity, record, options)
            return ODataResponse.json(200, payload, {"ETag": record.etag(entity.datasources)})
        if request.method in ("PATCH", "PUT", "MERGE"):
            updated = update(
                read.write, entity, record, _json_body(request), request.header("if-match")
            )
            return ODataResponse(204, headers={"ETag": updated.etag(entity.datasources)})
        if request.method == "DELETE":
            delete(read.write, entity, record, request.header("if-match"))
            return ODataResponse(204)
        return _method_not_allowed()

    def _below_entity(
        self,
        request: ODataRequest,
        entity: EntityType,
        record: Any,
        tail: list[str],
        options: QueryOptions,
        read: ReadContext,
    ) -> ODataResponse:
        segment = tail[0]
        if segment.startswith(NAMESPACE + ".") and len(tail) == 1:
            return self._action(
                request, entity, record, segment.removeprefix(NAMESPACE + "."), read
            )
        values = full_values(read, entity, record)
        if request.method == "POST" and len(tail) == 1 and segment in entity.navigations:
            return self._create_related(request, entity, values, segment, read)
        if request.method != "GET" or len(tail) > 1:
            raise not_found(tail[-1])
        if segment in entity.navigations:
            return self._navigation(request, entity, values, segment, read)
        prop = entity.properties.get(segment)
        if prop is None:
            raise not_found(segment)
        context = f"{read.service_root}/$metadata#{request.path.strip('/')}"
        return ODataResponse.json(
            200, {"@odata.context": context, "value": to_json(prop, values[segment])}
        )

    def _navigation(
        self,
        request: ODataRequest,
        entity: EntityType,
        values: dict[str, Any],
        segment: str,
        read: ReadContext,
    ) -> ODataResponse:
        """``Set(key)/Nav``: the related rows (a collection) or row (a single entity)."""
        navigation = entity.navigations[segment]
        target = self.state.catalog.entities[navigation.target_set]
        settings = self.state.settings
        options = parse_options(
            dict(request.params), target, self.state.catalog, settings.filter_functions
        )
        criteria = {t: values.get(s) for s, t in navigation.join}
        page_size = self._page_size(request)
        payload = collection(
            read, target, options, page_size, request.path, request.params, criteria
        )
        if navigation.many:
            return ODataResponse.json(200, payload)
        if not payload["value"]:
            raise not_found(segment)
        return ODataResponse.json(200, payload["value"][0])

    def _create_related(
        self,
        request: ODataRequest,
        entity: EntityType,
        values: dict[str, Any],
        segment: str,
        read: ReadContext,
    ) -> ODataResponse:
        """``POST Set(key)/Nav``: a row of the related set, joined to this one (UNCERTAIN for
        F&O; inside a changeset the parent may be a Content-ID reference, ``$1/Nav``)."""
        navigation = entity.navigations[segment]
        if not navigation.many:
            return _method_not_allowed()
        target = self.state.catalog.entities[navigation.target_set]
        body = _json_body(request)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        body = {**body, **{t: values.get(s) for s, t in navigation.join}}
        record = create(read.write, target, body)
        return self._created(read, target, record)

    def _action(
        self, request: ODataRequest, entity: EntityType, record: Any, name: str, read: ReadContext
    ) -> ODataResponse:
        settings = self.state.settings
        is_journal = entity.set_name in ("CustomerPaymentJournalHeaders", "LedgerJournalHeaders")
        if not (settings.posting_action and is_journal and name == settings.posting_action_name):
            raise not_found(f"{NAMESPACE}.{name}")
        if request.method != "POST":
            return _method_not_allowed()
        post_journal(read.write, entity, record.values)
        context = f"{read.service_root}/$metadata#Edm.Boolean"
        return ODataResponse.json(200, {"@odata.context": context, "value": True})

    def _page_size(self, request: ODataRequest) -> int:
        size = self.state.settings.page_size
        prefer = request.header("prefer") or ""
        if self.state.settings.honor_maxpagesize and "odata.maxpagesize=" in prefer:
            requested = prefer.split("odata.maxpagesize=")[1].split(",")[0].strip()
            if requested.isdigit() and int(requested) > 0:
                size = min(size, int(requested))
        return size


def _json_body(request: ODataRequest) -> Any:
    try:
        return loads(request.body or b"{}")
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


def _method_not_allowed() -> ODataResponse:
    return ODataResponse.error(
        ODataError(405, "The requested resource does not support this method.")
    )
