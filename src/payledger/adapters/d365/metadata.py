"""Read ``$metadata`` (CSDL): entity sets, their properties, types, keys and facets.

Mapping validation uses this to check that a template's fields exist, that values fit their
types (and lengths, where the environment publishes ``MaxLength``) and that keys are present.
"""

from __future__ import annotations

# The document comes from the authenticated ERP endpoint the operator configured, and Python's
# expat refuses entity-expansion attacks; defusedxml would add a dependency for no gain here.
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_CORE = "Microsoft.Dynamics.OData.Core.V1"


@dataclass(frozen=True)
class PropertyInfo:
    """One property of an entity type as the metadata describes it."""

    name: str
    type: str
    nullable: bool = True
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    enum_members: tuple[str, ...] = ()
    required: bool = False
    editable: bool = True
    editable_on_create: bool = True

    @property
    def is_enum(self) -> bool:
        return bool(self.enum_members)


@dataclass(frozen=True)
class EntitySetInfo:
    """An entity set with its entity type's keys, properties and navigation targets."""

    name: str
    entity_type: str
    keys: tuple[str, ...]
    properties: dict[str, PropertyInfo]
    navigations: dict[str, str] = field(default_factory=dict)

    def property(self, name: str) -> PropertyInfo:
        try:
            return self.properties[name]
        except KeyError:
            raise KeyError(f"{self.name} has no property {name!r}") from None


@dataclass(frozen=True)
class ServiceMetadata:
    namespace: str
    container: str
    entity_sets: dict[str, EntitySetInfo]
    enums: dict[str, tuple[str, ...]]

    def entity_set(self, name: str) -> EntitySetInfo:
        try:
            return self.entity_sets[name]
        except KeyError:
            raise KeyError(f"the service has no entity set {name!r}") from None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _annotations(element: ET.Element) -> dict[str, str]:
    notes = {}
    for note in element.findall(f"{_EDM}Annotation"):
        term = note.get("Term", "").removeprefix(_CORE + ".")
        notes[term] = note.get("Bool", note.get("EnumMember", note.get("String", "")))
    return notes


def _property(element: ET.Element, enums: dict[str, tuple[str, ...]]) -> PropertyInfo:
    type_name = element.get("Type", "")
    notes = _annotations(element)
    return PropertyInfo(
        name=element.get("Name", ""),
        type=type_name,
        nullable=element.get("Nullable", "true") != "false",
        max_length=_int(element.get("MaxLength")),
        precision=_int(element.get("Precision")),
        scale=_int(element.get("Scale")),
        enum_members=enums.get(type_name, ()),
        required=notes.get("IsRequired") == "true",
        editable=notes.get("AllowEdit", "true") != "false",
        editable_on_create=notes.get("AllowEditOnCreate", "true") != "false",
    )


def _entity_types(
    schema: ET.Element, namespace: str, enums: dict[str, tuple[str, ...]]
) -> dict[str, tuple[tuple[str, ...], dict[str, PropertyInfo], dict[str, str]]]:
    types = {}
    for entity_type in schema.findall(f"{_EDM}EntityType"):
        keys = tuple(
            ref.get("Name", "") for ref in entity_type.findall(f"{_EDM}Key/{_EDM}PropertyRef")
        )
        properties = {
            p.get("Name", ""): _property(p, enums) for p in entity_type.findall(f"{_EDM}Property")
        }
        navigations = {
            n.get("Name", ""): n.get("Type", "")
            for n in entity_type.findall(f"{_EDM}NavigationProperty")
        }
        types[f"{namespace}.{entity_type.get('Name')}"] = (keys, properties, navigations)
    return types


def parse_metadata(document: bytes | str) -> ServiceMetadata:
    """Parse a CSDL document (OData v4 ``$metadata``)."""
    root = ET.fromstring(document)  # noqa: S314 - see the import note
    schemas = list(root.iter(f"{_EDM}Schema"))
    enums: dict[str, tuple[str, ...]] = {}
    for schema in schemas:
        for enum in schema.findall(f"{_EDM}EnumType"):
            members = tuple(m.get("Name", "") for m in enum.findall(f"{_EDM}Member"))
            enums[f"{schema.get('Namespace')}.{enum.get('Name')}"] = members
    types = {}
    for schema in schemas:
        types.update(_entity_types(schema, schema.get("Namespace", ""), enums))
    entity_sets: dict[str, EntitySetInfo] = {}
    namespace = schemas[0].get("Namespace", "") if schemas else ""
    container_name = ""
    for container in root.iter(f"{_EDM}EntityContainer"):
        container_name = container.get("Name", "")
        for entity_set in container.findall(f"{_EDM}EntitySet"):
            type_name = entity_set.get("EntityType", "")
            keys, properties, navigations = types.get(type_name, ((), {}, {}))
            name = entity_set.get("Name", "")
            entity_sets[name] = EntitySetInfo(name, type_name, keys, properties, navigations)
    return ServiceMetadata(namespace, container_name, entity_sets, enums)
