"""D365 ``$metadata`` as the mapping engine's :class:`SchemaCatalog`."""

from __future__ import annotations

from collections.abc import Mapping

from payledger.adapters.d365.metadata import EntitySetInfo, PropertyInfo, ServiceMetadata
from payledger.mapping import EntitySchema, PropertySchema, field_type_of_edm


def _property(info: PropertyInfo, *, is_key: bool, max_length: int | None) -> PropertySchema:
    return PropertySchema(
        type=field_type_of_edm(info.type, info.enum_members),
        max_length=info.max_length or max_length,
        nullable=info.nullable,
        is_key=is_key,
        required=info.required,
        read_only=not (info.editable or info.editable_on_create),
        enum_members=info.enum_members,
    )


def _entity(entity_set: EntitySetInfo, lengths: Mapping[str, int]) -> EntitySchema:
    properties = {
        name: _property(
            info,
            is_key=name in entity_set.keys,
            max_length=lengths.get(f"{entity_set.name}.{name}"),
        )
        for name, info in entity_set.properties.items()
    }
    return EntitySchema(name=entity_set.name, properties=properties, system="d365")


def entities_from_metadata(
    metadata: ServiceMetadata, string_lengths: Mapping[str, int] | None = None
) -> list[EntitySchema]:
    """One :class:`EntitySchema` per entity set.

    F&O publishes no string lengths in ``$metadata``; ``string_lengths`` (``"Entity.Field"``
    → characters, from configuration) fills them in where the environment's are known.
    """
    lengths = string_lengths or {}
    return [_entity(entity_set, lengths) for entity_set in metadata.entity_sets.values()]
