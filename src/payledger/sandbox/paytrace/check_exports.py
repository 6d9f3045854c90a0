"""Check (ACH) records in exports: INVENTED, because PayTrace documents no check export.

Fact sheet §4.14 lists the check export as "not found". The sandbox assumes checks appear in
``/v1/transactions/export/by_date_range`` next to card transactions, told apart by
``check_transaction_id`` (``settings.checks_in_transaction_export``), and also answers an
INVENTED ``/v1/checks/export/by_date_range`` with a ``checks`` array, so a connector can be
pointed at whichever shape the real account turns out to have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from payledger.sandbox.paytrace import exports
from payledger.sandbox.paytrace.clock import pacific_date
from payledger.sandbox.paytrace.records import CheckStatus, CheckTransaction
from payledger.sandbox.paytrace.requests import Body
from payledger.sandbox.paytrace.state import SandboxState

CHECK_TYPE_FILTERS: dict[str, Callable[[CheckTransaction], bool]] = {
    "SALE": lambda c: c.kind == "sale",
    "AUTHORIZATION": lambda c: c.kind == "hold",
    "REFUND": lambda c: c.kind == "refund",
    "VOID": lambda c: c.status is CheckStatus.VOIDED,
    "SETTLED": lambda c: c.status is CheckStatus.SETTLED,
    "PENDING": lambda c: c.status in (CheckStatus.PENDING, CheckStatus.HELD),
    "DECLINED": lambda c: c.status is CheckStatus.DECLINED,
    "STR/FWD": lambda c: False,
}
"""The export's ``transaction_type`` filter read for checks: by kind, or by status."""


def check_matches(check: CheckTransaction, body: Body, start: date, end: date) -> bool:
    """The ``by_date_range`` filters applied to a check; a ``transaction_id`` filter names a
    card transaction, so it leaves checks out."""
    if not start <= pacific_date(check.created.at) <= end:
        return False
    wanted_type = body.text("transaction_type").upper()
    if wanted_type and not (
        wanted_type in CHECK_TYPE_FILTERS and CHECK_TYPE_FILTERS[wanted_type](check)
    ):
        return False
    if body.has("transaction_id"):
        return False
    if body.has("customer_id") and body.text("customer_id") != check.customer_id:
        return False
    text = body.text("including_text").lower()
    return not text or any(text in value.lower() for value in exports.check_searchable_text(check))


def check_records(state: SandboxState, body: Body, start: date, end: date) -> list[dict[str, Any]]:
    """Export records of the checks created between ``start`` and ``end`` that match ``body``."""
    found = [c for c in state.checks.values() if check_matches(c, body, start, end)]
    return [
        exports.check_export_record(c) for c in sorted(found, key=lambda c: c.check_transaction_id)
    ]
