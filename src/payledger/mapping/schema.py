"""The schema port templates are validated against: entities, their properties, types, keys.

The D365 adapter translates its ``$metadata`` reader output into :class:`EntitySchema` (see
:func:`field_type_of_edm`); PayTrace targets come from :mod:`payledger.mapping.paytrace_targets`.
A :class:`SchemaCatalog` answers "which entity is ``name`` on ``system``".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol


class FieldType(StrEnum):
    """The value types the engine tells apart (JSON forms in brackets)."""

    STRING = "string"
    DECIMAL = "decimal"
    """An exact ``Decimal`` (a JSON number once serialised)."""
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    """An instant as ISO-8601 text, e.g. ``2025-03-05T12:00:00Z`` (``Edm.DateTimeOffset``)."""
    DATE = "date"
    """A calendar day as ``YYYY-MM-DD`` text."""
    ENUM = "enum"
    """An enum member's symbol string (``"Cust"``, ``"No"``)."""
    GUID = "guid"
    LIST = "list"
    OBJECT = "object"
    ANY = "any"


EDM_TYPES: dict[str, FieldType] = {
    "Edm.String": FieldType.STRING,
    "Edm.Decimal": FieldType.DECIMAL,
    "Edm.Double": FieldType.DECIMAL,
    "Edm.Single": FieldType.DECIMAL,
    "Edm.Byte": FieldType.INTEGER,
    "Edm.Int16": FieldType.INTEGER,
    "Edm.Int32": FieldType.INTEGER,
    "Edm.Int64": FieldType.INTEGER,
    "Edm.Boolean": FieldType.BOOLEAN,
    "Edm.DateTimeOffset": FieldType.DATETIME,
    "Edm.Date": FieldType.DATE,
    "Edm.Guid": FieldType.GUID,
}


def field_type_of_edm(type_name: str, enum_members: Iterable[str] = ()) -> FieldType:
    """The :class:`FieldType` of an OData property type (an enum when it has members)."""
    if tuple(enum_members):
        return FieldType.ENUM
    return EDM_TYPES.get(type_name, FieldType.ANY)


@dataclass(frozen=True, slots=True)
class PropertySchema:
    """One target property: its type and the facts validation and the engine check."""

    type: FieldType
    max_length: int | None = None
    nullable: bool = True
    is_key: bool = False
    required: bool = False
    """Must be given when a record is created (F&O ``IsRequired``)."""
    read_only: bool = False
    """Assigned or computed by the target system; a template may not write it."""
    enum_members: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntitySchema:
    """A target entity (a D365 entity set, a PayTrace request) and its properties.

    Nested PayTrace properties are named by dotted paths (``billing_address.zip``).
    """

    name: str
    properties: Mapping[str, PropertySchema]
    system: str = "d365"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(name for name, prop in self.properties.items() if prop.is_key)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, prop in self.properties.items() if prop.required)


class SchemaCatalog(Protocol):
    """Looks up target entities; the engine's port to ``$metadata`` and PayTrace setup."""

    def entity(self, system: str, name: str) -> EntitySchema | None:
        """The entity ``name`` of ``system`` (``"d365"`` or ``"paytrace"``), or None."""
        ...


@dataclass(frozen=True)
class StaticCatalog:
    """A catalog held in memory, built from a list of entities."""

    entities: tuple[EntitySchema, ...]
    _index: dict[tuple[str, str], EntitySchema] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {(entity.system, entity.name): entity for entity in self.entities}
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, *groups: Iterable[EntitySchema]) -> StaticCatalog:
        """One catalog from several groups of entities (later ones win on a clash)."""
        return cls(tuple(entity for group in groups for entity in group))

    def entity(self, system: str, name: str) -> EntitySchema | None:
        return self._index.get((system, name))


def accepts(target: FieldType, produced: FieldType) -> bool:
    """Whether a value statically typed ``produced`` may be written to a ``target`` field."""
    if FieldType.ANY in (target, produced) or target == produced:
        return True
    compatible = {
        FieldType.DECIMAL: {FieldType.INTEGER},
        FieldType.ENUM: {FieldType.STRING},
        FieldType.GUID: {FieldType.STRING},
        FieldType.STRING: {FieldType.ENUM, FieldType.GUID},
    }
    return produced in compatible.get(target, set())


def type_of_value(value: Any) -> FieldType:
    """The :class:`FieldType` of a constant."""
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, int):
        return FieldType.INTEGER
    if isinstance(value, Decimal | float):
        return FieldType.DECIMAL
    if isinstance(value, str):
        return FieldType.STRING
    if isinstance(value, list | tuple):
        return FieldType.LIST
    if isinstance(value, dict):
        return FieldType.OBJECT
    return FieldType.ANY


_ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")


def fits(prop: PropertySchema) -> Callable[[Any], bool]:
    """A fast test that a value fits ``prop``; :func:`value_problem` says why it does not."""
    kind = prop.type
    if kind in (FieldType.STRING, FieldType.GUID):
        return lambda value: type(value) is str
    if kind is FieldType.DECIMAL:
        return lambda value: type(value) is Decimal or type(value) is int
    if kind is FieldType.INTEGER:
        return lambda value: type(value) is int
    if kind is FieldType.ENUM:
        members = frozenset(prop.enum_members)
        if members:
            return lambda value: type(value) is str and value in members
        return lambda value: type(value) is str
    if kind is FieldType.DATETIME:
        return lambda value: type(value) is str and _ISO_INSTANT.match(value) is not None
    if kind in (FieldType.DATE, FieldType.BOOLEAN):
        return lambda value: value_problem(prop, value) is None
    return lambda value: True


def value_problem(prop: PropertySchema, value: Any) -> str | None:
    """Why ``value`` cannot be sent to ``prop`` at run time, or None when it fits."""
    kind = prop.type
    if kind in (FieldType.STRING, FieldType.GUID):
        ok = isinstance(value, str)
    elif kind is FieldType.DECIMAL:
        ok = isinstance(value, Decimal | int) and not isinstance(value, bool)
    elif kind is FieldType.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is FieldType.BOOLEAN:
        ok = isinstance(value, bool)
    elif kind is FieldType.DATETIME:
        ok = isinstance(value, str) and _ISO_INSTANT.match(value) is not None
    elif kind is FieldType.DATE:
        ok = isinstance(value, str) and _ISO_DATE.match(value) is not None
    elif kind is FieldType.ENUM:
        if not isinstance(value, str):
            ok = False
        elif prop.enum_members and value not in prop.enum_members:
            return f"{value!r} is not one of {', '.join(prop.enum_members)}"
        else:
            ok = True
    else:
        return None
    if ok:
        return None
    return f"expected a {kind.value} value, got {type(value).__name__} {value!r}"
