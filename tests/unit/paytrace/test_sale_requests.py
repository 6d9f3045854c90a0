"""A mapped charge request in PayTrace's sale shape: the template's fields, the flow's amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.paytrace.sale_requests import sale_details
from payledger.domain.errors import MappingError


def test_the_mapped_fields_become_the_sale_s_details_and_the_amount_stays_the_flow_s():
    details = sale_details(
        {
            "amount": Decimal("60.10"),
            "invoice_id": "CIV-900",
            "description": "D365 USMF invoice CIV-900",
            "tax_amount": Decimal("3.2"),
            "billing_address": {"name": "Harbor Supplies Inc", "zip": "98402"},
            "discretionary_data": {"D365 Order": "001262", "Seats": Decimal("12")},
        }
    )

    assert details.wire() == {
        "invoice_id": "CIV-900",
        "description": "D365 USMF invoice CIV-900",
        "tax_amount": "3.20",
        "billing_address": {"name": "Harbor Supplies Inc", "zip": "98402"},
        "discretionary_data": {"D365 Order": "001262", "Seats": "12"},
    }


def test_a_field_no_paytrace_sale_takes_is_a_mapping_error_naming_it():
    with pytest.raises(MappingError, match=r"does not fit a PayTrace sale: customer_id: Extra"):
        sale_details({"amount": Decimal(1), "customer_id": "vault-7"})
