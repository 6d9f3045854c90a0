"""The mapping benchmark function (the CLI runs it with n=20,000)."""

from __future__ import annotations

from payledger.mapping import bench_mapping
from tests.unit.mapping.catalog import fixture_catalog


def test_bench_reports_mappings_per_second():
    result = bench_mapping(300, repeat=1, catalog=fixture_catalog())

    assert (result.template, result.mappings) == ("d365_payment_journal_line", 300)
    assert result.per_second > 0
    assert "mappings in" in str(result)


def test_bench_can_include_building_the_document():
    result = bench_mapping(100, repeat=1, include_document=True)

    assert result.include_document and "payment → document → payload" in str(result)
