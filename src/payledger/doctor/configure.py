"""The configure-and-map phase: does the D365 and PayTrace setup hold what payledger is told?

Entity sets and extension fields are looked up in ``$metadata``; each ``[d365]`` value in the
company's setup (see :mod:`payledger.doctor.d365_setup`); the PayTrace discretionary titles
against what templates need. Nothing is created in PayTrace or D365.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from payledger.adapters.d365 import D365Client, ServiceMetadata
from payledger.config import Settings
from payledger.doctor.d365_setup import values_to_verify, verify_value
from payledger.doctor.report import CONFIGURE, Finding, attempt, fail, ok, skip
from payledger.mapping import title_issues


def verify_entity_sets(metadata: ServiceMetadata, settings: Settings) -> Finding:
    """Every set of ``[d365.entity_sets]`` (the ones payledger reads and writes) exists."""
    names = settings.d365.entity_sets.model_dump()
    if settings.posting.post == "never":
        del names["customer_transactions"]  # read only to confirm what posting settled
    if not settings.subscriptions.enabled:
        del names["free_text_invoice_headers"], names["free_text_invoice_lines"]
    missing = [f"{key} = {name}" for key, name in names.items() if name not in metadata.entity_sets]
    if missing:
        hint = "set [d365.entity_sets] to the names this environment exposes"
        return fail(CONFIGURE, "entity sets", "not in $metadata: " + ", ".join(missing), hint)
    return ok(CONFIGURE, "entity sets", f"all {len(names)} configured entity sets exist")


def verify_extension_fields(metadata: ServiceMetadata, settings: Settings) -> list[Finding]:
    """Every field of ``[d365.fields]`` is a property of its entity (or is left empty)."""
    d = settings.d365
    findings = []
    for key, name in d.fields.model_dump().items():
        entity_set = (
            d.entity_sets.customers if key.startswith("customer") else d.entity_sets.sales_orders
        )
        label = f"extension field {key}"
        info = metadata.entity_sets.get(entity_set)
        if not name:
            findings.append(skip(CONFIGURE, label, "not configured: payledger does not write it"))
        elif info is not None and name in info.properties:
            findings.append(ok(CONFIGURE, label, f"{entity_set}.{name} exists"))
        else:
            hint = (
                f"add {name} to the {entity_set} data entity (an F&O extension) and refresh the "
                f"entity list, or set [d365.fields] {key} to its real name (empty: not written)"
            )
            findings.append(fail(CONFIGURE, label, f"{entity_set} has no property {name}", hint))
    return findings


def verify_billing_fields(metadata: ServiceMetadata, settings: Settings) -> list[Finding]:
    """With ``[subscriptions]`` enabled: the invoice key field on free-text invoice headers
    and the status field on customers (unless it is left empty) are in ``$metadata``."""
    billing, sets = settings.subscriptions, settings.d365.entity_sets
    if not billing.enabled:
        return []
    wanted = [
        ("invoice_key_field", sets.free_text_invoice_headers, billing.invoice_key_field),
        ("status_field", sets.customers, billing.status_field),
    ]
    findings = []
    for key, entity_set, name in wanted:
        label = f"subscriptions {key}"
        info = metadata.entity_sets.get(entity_set)
        if not name:
            findings.append(skip(CONFIGURE, label, "not configured: no status is mirrored"))
        elif info is not None and name in info.properties:
            findings.append(ok(CONFIGURE, label, f"{entity_set}.{name} exists"))
        else:
            hint = (
                f"add {name} to the {entity_set} data entity (an F&O extension), or set "
                f"[subscriptions] {key} to its real name"
            )
            findings.append(fail(CONFIGURE, label, f"{entity_set} has no property {name}", hint))
    return findings


async def verify_d365_setup(
    client: D365Client, metadata: ServiceMetadata, settings: Settings
) -> list[Finding]:
    """Entity sets, each ``[d365]`` value in the company's setup, then the extension fields."""
    findings = [verify_entity_sets(metadata, settings)]
    for item in values_to_verify(settings):
        verified = await attempt(
            partial(verify_value, client, metadata, settings.d365.company, item)
        )
        if isinstance(verified, Exception):
            verified = fail(CONFIGURE, item.name, str(verified), "see the D365 checks above")
        findings.append(verified)
    return (
        findings
        + verify_extension_fields(metadata, settings)
        + verify_billing_fields(metadata, settings)
    )


def verify_discretionary_titles(settings: Settings) -> Finding:
    """At most 6 valid titles, among them the order, customer and correlation titles."""
    pt, name = settings.paytrace, "PayTrace discretionary titles"
    titles = pt.discretionary_titles
    problems = [issue.reason for issue in title_issues("[paytrace]", titles)]
    for key in ("order_title", "customer_title", "correlation_field"):
        value: Any = getattr(pt, key)
        if value and value not in titles:
            problems.append(f"{key} {value!r} is not one of discretionary_titles")
    if problems:
        hint = (
            "list the titles defined on the merchant account (Virtual Terminal, at most 6) in "
            "[paytrace] discretionary_titles; order_title and customer_title must be among them"
        )
        return fail(CONFIGURE, name, "; ".join(problems), hint)
    return ok(CONFIGURE, name, f"{len(titles)} of 6 as configured: {', '.join(titles)}")
