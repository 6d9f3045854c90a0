"""``/data/$metadata``: CSDL XML with F&O's namespace, container and annotation terms."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from payledger.sandbox.d365.catalog import NAMESPACE, REQUIRED, SERVER_ASSIGNED, Catalog, EntityType
from payledger.sandbox.d365.settings import D365SandboxSettings

_CORE = "Microsoft.Dynamics.OData.Core.V1"
_AX_TYPES = {
    "str": "String",
    "dec": "Real",
    "dto": "Date",
    "int32": "Integer",
    "int64": "Int64",
    "guid": "Guid",
    "enum": "Enum",
}
_JOURNAL_HEADERS = ("CustomerPaymentJournalHeaders", "LedgerJournalHeaders")


def _annotation(term: str, value: str) -> str:
    return f'<Annotation Term="{_CORE}.{term}" {value}/>'


def _property(entity: EntityType, name: str) -> str:
    prop = entity.properties[name]
    ax_type = (
        "UtcDateTime" if prop.kind == "dto" and not prop.is_date_only else _AX_TYPES[prop.kind]
    )
    nullable = "" if prop.nullable else ' Nullable="false"'
    notes = [_annotation("AXType", f'EnumMember="{_CORE}.AXType/{ax_type}"')]
    if name in REQUIRED.get(entity.set_name, ()):
        notes.append(_annotation("IsRequired", 'Bool="true"'))
    if name in SERVER_ASSIGNED.get(entity.set_name, ()):
        notes.append(_annotation("AllowEditOnCreate", 'Bool="false"'))
    if name in ("IsPosted", "JournalTotalDebit", "JournalTotalCredit", "Voucher", "CustomerName"):
        notes.append(_annotation("AllowEdit", 'Bool="false"'))
    return (
        f'<Property Name="{name}" Type="{prop.edm_type}"{nullable}>'
        + "".join(notes)
        + "</Property>"
    )


def _entity_type(entity: EntityType, catalog: Catalog) -> str:
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in entity.keys)
    properties = "".join(_property(entity, name) for name in entity.properties)
    navigations = []
    for nav in entity.navigations.values():
        target = catalog.entities[nav.target_set].qualified_type
        type_name = f"Collection({target})" if nav.many else target
        nullable = "" if nav.many else ' Nullable="true"'
        constraints = "".join(
            f'<ReferentialConstraint Property="{s}" ReferencedProperty="{t}"/>'
            for s, t in nav.join
            if not nav.many
        )
        navigations.append(
            f'<NavigationProperty Name="{nav.name}" Type="{type_name}"{nullable}>'
            f"{constraints}</NavigationProperty>"
        )
    return (
        f'<EntityType Name="{entity.type_name}"><Key>{keys}</Key>{properties}'
        + "".join(navigations)
        + "</EntityType>"
    )


def _enum_type(name: str, members: tuple[str, ...]) -> str:
    items = "".join(f'<Member Name={quoteattr(m)} Value="{i}"/>' for i, m in enumerate(members))
    return f'<EnumType Name="{name}">{items}</EnumType>'


def _entity_set(entity: EntityType, catalog: Catalog) -> str:
    bindings = "".join(
        f'<NavigationPropertyBinding Path="{nav.name}" Target="{nav.target_set}"/>'
        for nav in entity.navigations.values()
    )
    head = f'<EntitySet Name="{entity.set_name}" EntityType="{entity.qualified_type}">'
    return f"{head}{bindings}</EntitySet>"


def _actions(catalog: Catalog, settings: D365SandboxSettings) -> str:
    if not settings.posting_action:
        return ""
    actions = []
    for set_name in _JOURNAL_HEADERS:
        binding = catalog.entities[set_name].qualified_type
        actions.append(
            f'<Action Name="{settings.posting_action_name}" IsBound="true">'
            f'<Parameter Name="_bindingParameter" Type="{binding}"/>'
            '<ReturnType Type="Edm.Boolean" Nullable="false"/></Action>'
        )
    return "".join(actions)


def render_csdl(catalog: Catalog, settings: D365SandboxSettings) -> str:
    """The whole metadata document for the catalog (including extension fields)."""
    used_enums = sorted(
        {p.enum for e in catalog.entities.values() for p in e.properties.values() if p.enum}
    )
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        *(_entity_type(e, catalog) for e in catalog.entities.values()),
        *(_enum_type(name, catalog.enums.get(name, ())) for name in used_enums),
        _actions(catalog, settings),
        '<EntityContainer Name="Resources">',
        *(_entity_set(e, catalog) for e in catalog.entities.values()),
        "</EntityContainer>",
        "</Schema>",
        "</edmx:DataServices>",
        "</edmx:Edmx>",
    ]
    return "\n".join(parts)
