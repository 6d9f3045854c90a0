"""What the suggester compares: target fields, source fields seen in samples, and the mappings
other templates already make."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from payledger.mapping.document import known_type
from payledger.mapping.jsonio import loads
from payledger.mapping.paths import resolve
from payledger.mapping.samples import sample_document
from payledger.mapping.schema import EntitySchema, FieldType, type_of_value
from payledger.mapping.suggest_profiles import Profile, profile_of
from payledger.mapping.template import FirstOfSource, IfSource, PathSource, Template, Value

MAX_SAMPLE_VALUES = 20
"""Sample values kept per source field (enough for a profile, cheap to score)."""


@dataclass(frozen=True, slots=True)
class TargetField:
    """A property a template may write (from ``$metadata`` or the PayTrace targets)."""

    name: str
    type: FieldType
    max_length: int | None = None
    mandatory: bool = False
    key: bool = False
    extension: bool = False
    """A field the deployment added to the standard entity (configured in ``[d365.fields]``)."""


@dataclass(frozen=True, slots=True)
class SourceField:
    """A path in the source document (docs/mapping.md §2) and values seen there."""

    path: str
    type: FieldType
    values: tuple[Any, ...] = ()
    seen: float = 1.0
    """The share of sample documents that hold a value at this path."""
    profile: Profile | None = None


@dataclass(frozen=True)
class KnownMappings:
    """Target field name → (source path, template) pairs other templates map."""

    pairs: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def from_templates(
        cls, templates: Iterable[Template], settings: Mapping[str, Any] | None = None
    ) -> KnownMappings:
        """What ``templates`` map from plain source paths (settings and constants left out)."""
        pairs: dict[str, list[tuple[str, str]]] = {}
        for template in templates:
            for spec in template.fields:
                target = resolve(spec.target, settings or {}) or spec.target
                for path in data_paths(spec.value):
                    if not path.startswith("settings."):
                        pairs.setdefault(target, []).append((path, template.name))
        return cls({name: tuple(dict.fromkeys(found)) for name, found in pairs.items()})

    def templates_mapping(self, target: str, source: str) -> list[str]:
        """The templates that map ``target`` from ``source``."""
        return [name for path, name in self.pairs.get(target, ()) if path == source]


def data_paths(value: Value) -> Iterator[str]:
    """The source paths whose value becomes the field's (not those only tested or formatted)."""
    source = value.source
    if isinstance(source, PathSource):
        yield source.path
    elif isinstance(source, FirstOfSource):
        for option in source.options:
            yield from data_paths(option)
    elif isinstance(source, IfSource):
        yield from data_paths(source.then)
        if source.otherwise is not None:
            yield from data_paths(source.otherwise)


def target_fields(entity: EntitySchema, extensions: Iterable[str] = ()) -> list[TargetField]:
    """The writable properties of ``entity``; ``extensions`` names its extension fields."""
    added = set(extensions)
    return [
        TargetField(
            name,
            prop.type,
            prop.max_length,
            mandatory=prop.required or (prop.is_key and not prop.nullable),
            key=prop.is_key,
            extension=name in added,
        )
        for name, prop in entity.properties.items()
        if not prop.read_only
    ]


def source_fields(documents: Sequence[Mapping[str, Any]]) -> list[SourceField]:
    """Every scalar path (and list of scalars) seen in ``documents``, with sample values."""
    values: dict[str, list[Any]] = {}
    for document in documents:
        for segments, value in _leaves(document, ()):
            values.setdefault(".".join(segments), []).append(value)
    count = max(len(documents), 1)
    fields = []
    for path, found in values.items():
        present = [v for v in found if v is not None and v != "" and v != []]
        kept = tuple(present[:MAX_SAMPLE_VALUES])
        fields.append(
            SourceField(path, _type_of(path, kept), kept, len(present) / count, profile_of(kept))
        )
    return fields


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        if all(not isinstance(item, Mapping | list) for item in value):
            yield path, value  # address lines: one field, a template joins or picks them
    elif path:
        yield path, value


def _type_of(path: str, values: Sequence[Any]) -> FieldType:
    section, *rest = path.split(".")
    known = known_type(section, tuple(rest)) if rest else None
    if known is not None:
        return known
    types = {type_of_value(value) for value in values}
    if len(types) != 1:
        return FieldType.ANY
    found = types.pop()
    if found is FieldType.STRING and values and profile_of(values) is Profile.DATETIME:
        return FieldType.DATETIME
    return found


def unmapped(
    targets: Sequence[TargetField], template: Template, settings: Mapping[str, Any] | None = None
) -> list[TargetField]:
    """The targets ``template`` does not fill yet (its target names resolved with settings)."""
    mapped = {resolve(spec.target, settings or {}) or spec.target for spec in template.fields}
    return [target for target in targets if target.name not in mapped]


def documents_from_jsonl(text: str, name: str = "samples") -> list[dict[str, Any]]:
    """Source documents, one JSON object a line (blank lines skipped; golden files' ``input``).

    Raises:
        ValueError: a line is not a JSON object, naming ``name`` and the line number.
    """
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = sample_document(loads(line))
        except ValueError as exc:
            raise ValueError(f"{name} line {number} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{name} line {number} must be a JSON object (a source document)")
        documents.append(data)
    if not documents:
        raise ValueError(f"{name} holds no source document")
    return documents
