"""PayTrace v1 request targets as schema entities, with the merchant's discretionary titles.

Field names follow the PayTrace fact sheet §4.1 (transaction requests) and §4.15 (customer
profiles). Card data (``credit_card``, ``csc``, encrypted and swipe fields) is deliberately
not a target: it never passes through payledger's mapping. PayTrace v1 publishes no length
limits; the ones below are v3's where the fact sheet gives them (name, customer reference and
label ≤ 50, phone ≤ 20, discretionary values ≤ 99) and otherwise assumptions.
"""

from __future__ import annotations

from collections.abc import Iterable

from payledger.mapping.errors import Issue
from payledger.mapping.schema import EntitySchema, FieldType, PropertySchema

SYSTEM = "paytrace"
TRANSACTION_REQUEST = "transaction_request"
CUSTOMER_PROFILE = "customer_profile"
MAX_DISCRETIONARY_FIELDS = 6
MAX_TITLE_LENGTH = 50
MAX_DISCRETIONARY_VALUE = 99
DISCRETIONARY = "discretionary_data"


def _text(max_length: int | None = None, *, required: bool = False) -> PropertySchema:
    return PropertySchema(FieldType.STRING, max_length=max_length, required=required)


def _address(prefix: str, *, county: bool) -> dict[str, PropertySchema]:
    fields = {
        "name": _text(50),
        "street_address": _text(50),
        "street_address2": _text(50),
        "city": _text(50),
        "state": _text(20),
        "zip": _text(10),
        "country": _text(2),
    }
    if county:
        fields["county"] = _text(50)
    return {f"{prefix}.{name}": prop for name, prop in fields.items()}


def _discretionary(titles: Iterable[str]) -> dict[str, PropertySchema]:
    return {
        f"{DISCRETIONARY}.{title}": _text(MAX_DISCRETIONARY_VALUE)
        for title in titles
        if title and "." not in title
    }


def transaction_request(titles: Iterable[str] = ()) -> EntitySchema:
    """The mappable fields of a sale/authorization request (any entry method).

    The payment method (``customer_id`` of a card on file, a Protect token, an earlier
    ``transaction_id``) is not mappable: the flow gives it with the card, never a template.
    """
    properties = {
        "amount": PropertySchema(FieldType.DECIMAL, required=True),
        "invoice_id": _text(50),
        "customer_reference_id": _text(50),
        "description": _text(255),
        "email": _text(255),
        "tax_amount": PropertySchema(FieldType.DECIMAL),
        "custom_dba": _text(25),
        "return_clr": PropertySchema(FieldType.BOOLEAN),
        "enable_partial_authorization": PropertySchema(FieldType.BOOLEAN),
        **_address("billing_address", county=False),
        **_address("shipping_address", county=True),
        **_discretionary(titles),
    }
    return EntitySchema(TRANSACTION_REQUEST, properties, SYSTEM)


def customer_profile(titles: Iterable[str] = ()) -> EntitySchema:
    """The mappable fields of a vault customer profile create/update."""
    properties = {
        "customer_id": PropertySchema(
            FieldType.STRING, max_length=50, is_key=True, required=True, nullable=False
        ),
        "email": _text(255),
        "phone": _text(20),
        "fax": _text(20),
        **_address("billing_address", county=False),
        **_address("shipping_address", county=True),
        **_discretionary(titles),
    }
    return EntitySchema(CUSTOMER_PROFILE, properties, SYSTEM)


def paytrace_entities(discretionary_titles: Iterable[str] = ()) -> list[EntitySchema]:
    """Both PayTrace targets, knowing the merchant's discretionary data titles."""
    titles = list(discretionary_titles)
    return [transaction_request(titles), customer_profile(titles)]


def title_issues(template: str, titles: Iterable[str]) -> list[Issue]:
    """Problems with the configured discretionary data titles themselves (fact sheet §8)."""
    titles = list(titles)
    issues = []
    if len(titles) > MAX_DISCRETIONARY_FIELDS:
        issues.append(
            Issue(
                template,
                DISCRETIONARY,
                f"PayTrace allows at most {MAX_DISCRETIONARY_FIELDS} discretionary data "
                f"fields; {len(titles)} are configured",
            )
        )
    for title in titles:
        if not title or len(title) > MAX_TITLE_LENGTH or "." in title:
            issues.append(
                Issue(
                    template,
                    DISCRETIONARY,
                    f"discretionary title {title!r} must be 1-{MAX_TITLE_LENGTH} characters "
                    "without dots",
                )
            )
    return issues
