"""The schema port: types from OData, compatibility, catalogs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.mapping import EntitySchema, FieldType, PropertySchema, StaticCatalog
from payledger.mapping import field_type_of_edm as edm
from payledger.mapping.schema import accepts, value_problem


def test_odata_types_map_to_field_types():
    assert edm("Edm.String") is FieldType.STRING
    assert edm("Edm.Decimal") is FieldType.DECIMAL
    assert edm("Edm.Int64") is FieldType.INTEGER
    assert edm("Edm.DateTimeOffset") is FieldType.DATETIME
    assert edm("Microsoft.Dynamics.DataEntities.NoYes", ("No", "Yes")) is FieldType.ENUM
    assert edm("Edm.Stream") is FieldType.ANY


@pytest.mark.parametrize(
    ("target", "produced", "ok"),
    [
        (FieldType.DECIMAL, FieldType.INTEGER, True),
        (FieldType.ENUM, FieldType.STRING, True),
        (FieldType.STRING, FieldType.DECIMAL, False),
        (FieldType.DATETIME, FieldType.STRING, False),
        (FieldType.DATETIME, FieldType.ANY, True),
    ],
)
def test_compatibility(target: FieldType, produced: FieldType, ok: bool):
    assert accepts(target, produced) is ok


def test_run_time_value_checks():
    decimal = PropertySchema(FieldType.DECIMAL)
    assert value_problem(decimal, Decimal("1.00")) is None
    assert value_problem(decimal, True) == "expected a decimal value, got bool True"
    instant = PropertySchema(FieldType.DATETIME)
    assert value_problem(instant, "2025-03-05T12:00:00Z") is None
    assert value_problem(instant, "03/05/2025") is not None
    assert value_problem(PropertySchema(FieldType.DATE), "2025-03-05") is None


def test_catalog_finds_entities_by_system_and_name_and_knows_keys():
    line = EntitySchema(
        "Lines",
        {"Id": PropertySchema(FieldType.STRING, is_key=True),
         "Group": PropertySchema(FieldType.STRING, required=True)},
    )  # fmt: skip
    catalog = StaticCatalog.of([line], [EntitySchema("Lines", {}, "paytrace")])

    assert catalog.entity("d365", "Lines") is line
    assert catalog.entity("paytrace", "Lines") is not line
    assert catalog.entity("d365", "Nope") is None
    assert (line.keys, line.required) == (("Id",), ("Group",))
