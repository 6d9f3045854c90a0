"""A value the domain lets through to an ``eq`` filter matches exactly that value in F&O (the
sandbox filters as F&O does: quotes doubled, ``*`` a wildcard), so no lookup can reach another
record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from payledger.adapters.d365 import field
from payledger.domain.erp_keys import InvalidErpValue, check_erp_lookup
from payledger.sandbox.d365.catalog import build_catalog
from payledger.sandbox.d365.filters import compile_filter

CATALOG = build_catalog()
CUSTOMERS = CATALOG.entities["CustomersV3"]


def matches(value: str, stored: str) -> bool:
    """Whether F&O (the sandbox's filter) matches ``stored`` for an exact lookup of ``value``."""
    text = field("PrimaryContactEmail").eq(value).text
    return bool(
        compile_filter(text, CUSTOMERS, CATALOG, functions=False)({"PrimaryContactEmail": stored})
    )


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
def test_a_lookup_value_that_passes_matches_itself_and_nothing_longer(value):
    try:
        check_erp_lookup("customer.email", value)
    except InvalidErpValue:
        assert "*" in value
        return
    assert matches(value, value)
    assert not matches(value, value + "x")
    assert not matches(value, "x" + value)


def test_the_wildcard_would_match_other_records_in_d365():
    pattern = field("CustomerAccount").matches("US-00*").text
    predicate = compile_filter(pattern, CUSTOMERS, CATALOG, functions=False)
    assert predicate({"CustomerAccount": "US-001"}) and predicate({"CustomerAccount": "US-009"})
