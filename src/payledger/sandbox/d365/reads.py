"""Reads: entity and collection envelopes, company scoping, paging, ``$expand``, ``$count``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.query import Expansion, QueryOptions, sort_rows
from payledger.sandbox.d365.rules import Row, WriteContext
from payledger.sandbox.d365.store import Record
from payledger.sandbox.d365.values import default_value, to_json
from payledger.sandbox.d365.writes import rules_for

_FULL_TYPE_NAMES = {
    "dec": "#Decimal",
    "dto": "#DateTimeOffset",
    "int32": "#Int32",
    "int64": "#Int64",
}


@dataclass
class ReadContext:
    """A read in progress: the caller's company, the service root and the output flavour."""

    write: WriteContext
    base_url: str
    full_metadata: bool = False

    @property
    def service_root(self) -> str:
        return f"{self.base_url}/data"


def key_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return f"{value.isoformat()}T12:00:00Z"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def key_text(entity: EntityType, values: dict[str, Any]) -> str:
    return ",".join(f"{k}={key_literal(values.get(k))}" for k in entity.keys)


def entity_url(read: ReadContext, entity: EntityType, values: dict[str, Any]) -> str:
    return f"{read.service_root}/{entity.set_name}({key_text(entity, values)})"


def full_values(read: ReadContext, entity: EntityType, record: Record) -> dict[str, Any]:
    """Every property of the row in metadata order: set values, defaults, computed values."""
    catalog = read.write.state.catalog
    computed = rules_for(entity).computed(read.write, entity, record.values)
    values = {}
    for name, prop in entity.properties.items():
        if name in computed:
            values[name] = computed[name]
        elif name in record.values:
            values[name] = record.values[name]
        else:
            values[name] = default_value(prop, catalog)
    return values


class _LazyRow(Mapping[str, Any]):
    """The row as :func:`full_values` would give it, each property worked out on first use:
    a ``$filter`` over thousands of rows reads a few properties, not every one of them."""

    def __init__(self, read: ReadContext, entity: EntityType, record: Record) -> None:
        self._read, self._entity, self._record = read, entity, record
        self._computed: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> Any:
        if self._computed is None:
            self._computed = rules_for(self._entity).computed(
                self._read.write, self._entity, self._record.values
            )
        if name in self._computed:
            return self._computed[name]
        if name in self._record.values:
            return self._record.values[name]
        prop = self._entity.properties.get(name)
        if prop is None:
            raise KeyError(name)
        return default_value(prop, self._read.write.state.catalog)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entity.properties)

    def __len__(self) -> int:
        return len(self._entity.properties)


def visible(entity: EntityType, values: dict[str, Any], company: str, cross_company: bool) -> bool:
    field = entity.company_property
    if field is None or cross_company:
        return True
    return str(values.get(field, "")).casefold() == company.casefold()


def render(
    read: ReadContext,
    entity: EntityType,
    record: Record,
    values: dict[str, Any],
    select: list[str] | None,
) -> dict[str, Any]:
    """One entity as JSON: ``@odata.etag`` then its (selected) properties."""
    out: dict[str, Any] = {}
    if read.full_metadata:
        out["@odata.type"] = f"#{entity.qualified_type}"
        out["@odata.id"] = out["@odata.editLink"] = entity_url(read, entity, values)
    out["@odata.etag"] = record.etag(entity.datasources)
    for name in select or entity.properties:
        prop = entity.properties[name]
        if read.full_metadata and (prop.enum or prop.kind in _FULL_TYPE_NAMES):
            out[f"{name}@odata.type"] = (
                f"#{prop.edm_type}" if prop.enum else _FULL_TYPE_NAMES[prop.kind]
            )
        out[name] = to_json(prop, values[name])
    return out


def select_suffix(entity: EntityType, select: list[str] | None) -> str:
    return f"({','.join(select)})" if select else ""


def matching_rows(
    read: ReadContext,
    entity: EntityType,
    options: QueryOptions,
    extra: dict[str, Any] | None = None,
) -> list[tuple[Record, dict[str, Any]]]:
    """Visible rows that pass ``$filter`` (and ``extra`` equalities), in ``$orderby`` order."""
    company = read.write.company
    rows = []
    for record in read.write.state.store.table(entity.set_name):
        if not visible(entity, record.values, company, options.cross_company or extra is not None):
            continue
        row = _LazyRow(read, entity, record)
        if extra and any(str(row.get(k)).casefold() != str(v).casefold() for k, v in extra.items()):
            continue
        if options.filter is None or options.filter(row):
            rows.append((record, full_values(read, entity, record)))
    if options.orderby:
        order = {id(values): (record, values) for record, values in rows}
        sorted_values = sort_rows([values for _, values in rows], options.orderby)
        rows = [order[id(values)] for values in sorted_values]
    return rows


def expand_row(
    read: ReadContext, entity: EntityType, values: Row, out: Row, expand: list[Expansion]
) -> None:
    catalog = read.write.state.catalog
    for expansion in expand:
        navigation = entity.navigations[expansion.navigation]
        target = catalog.entities[navigation.target_set]
        criteria = {t: values.get(s) for s, t in navigation.join}
        options = QueryOptions(filter=expansion.filter, cross_company=True)
        related = [
            render(read, target, record, related_values, expansion.select)
            for record, related_values in matching_rows(read, target, options, criteria)
        ]
        out[navigation.name] = related if navigation.many else (related[0] if related else None)


def collection(
    read: ReadContext,
    entity: EntityType,
    options: QueryOptions,
    page_size: int,
    path: str,
    params: list[tuple[str, str]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A collection page with ``@odata.count`` and a skip-based ``@odata.nextLink``."""
    rows = matching_rows(read, entity, options, extra)
    window = rows[options.skip :]
    if options.top is not None:
        window = window[: options.top]
    page = window[:page_size]
    payload: dict[str, Any] = {
        "@odata.context": f"{read.service_root}/$metadata#{entity.set_name}"
        + select_suffix(entity, options.select)
    }
    if options.count:
        payload["@odata.count"] = len(rows)
    payload["value"] = []
    for record, values in page:
        out = render(read, entity, record, values, options.select)
        expand_row(read, entity, values, out, options.expand)
        payload["value"].append(out)
    if len(window) > len(page):
        payload["@odata.nextLink"] = next_link(read, path, params, options, len(page))
    return payload


def next_link(
    read: ReadContext, path: str, params: list[tuple[str, str]], options: QueryOptions, served: int
) -> str:
    """The same query with ``$skip`` (and ``$top``) moved past the rows just served."""
    kept = [(k, v) for k, v in params if k not in ("$skip", "$top")]
    kept.append(("$skip", str(options.skip + served)))
    if options.top is not None:
        kept.append(("$top", str(options.top - served)))
    return f"{read.service_root}/{path}?" + urlencode(kept, quote_via=quote, safe="$'(),*:=/")


def single(
    read: ReadContext, entity: EntityType, record: Record, options: QueryOptions
) -> dict[str, Any]:
    values = full_values(read, entity, record)
    payload = {"@odata.context": f"{read.service_root}/$metadata#{entity.set_name}/$entity"}
    out = render(read, entity, record, values, options.select)
    expand_row(read, entity, values, out, options.expand)
    payload.update(out)
    return payload


def find_record(
    read: ReadContext, entity: EntityType, key: dict[str, Any], cross_company: bool
) -> Record | None:
    """A row by key; rows of other companies are invisible without ``cross-company=true``."""
    record = read.write.state.store.table(entity.set_name).get(key)
    if record is None or not visible(entity, record.values, read.write.company, cross_company):
        return None
    return record
