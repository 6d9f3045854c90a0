"""Gateway codes and payment kinds: response-code messages and journal-line defaults.

The messages restate the PayTrace fact sheet (§3 response codes, §3.1 error codes) for
operators; a template may replace any of them with its own (D365-specific) wording through
``table``. A payment kind decides the journal side (ARCHITECTURE §2): money in (sale, capture,
ACH sale) credits the customer, money out (refund, ACH refund) debits it, a void is posted as
the reversal of the incoming payment it cancels, and an authorization posts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from payledger.mapping.errors import TransformError
from payledger.mapping.schema import FieldType
from payledger.mapping.transforms.registry import NUMBER, TEXT, transform
from payledger.mapping.transforms.text import table_key, to_decimal

RESPONSE_MESSAGES: dict[str, str] = {
    "1": "The request was refused; see the error codes.",
    "101": "Approved.",
    "102": "Declined by the card issuer.",
    "103": "Approved, then voided automatically (AVS/CSC rules).",
    "106": "Refunded.",
    "107": "The refund did not go through.",
    "108": "Test refund accepted.",
    "109": "Voided.",
    "110": "The void did not go through.",
    "112": "Captured.",
    "113": "The capture did not go through.",
    "120": "Check accepted.",
    "122": "Check refunded.",
    "124": "Check funded or voided.",
    "125": "Check not accepted by the ACH processor.",
    "149": "Receipt e-mailed.",
    "160": "Customer profile created.",
    "161": "Customer profile updated.",
    "162": "Customer profile deleted.",
    "170": "Level 3 (enhanced) data added.",
}

ERROR_MESSAGES: dict[str, str] = {
    "30": "The customer profile was not found or is incomplete.",
    "35": "The card number is not valid.",
    "43": "The expiration month is not valid.",
    "45": "The checking account number is not valid.",
    "46": "The transit routing number is not valid.",
    "58": "The transaction id is missing or not valid.",
    "80": "The check was not found, or is already voided or settled.",
    "171": "A customer profile with this id already exists.",
    "811": "The transaction was not found.",
    "816": "Only an uncaptured, approved authorization can be captured.",
    "817": "Only a settled transaction can be refunded; void it instead.",
    "818": "Only a transaction pending settlement can be voided.",
    "981": "The PayTrace API user lacks the permission for this call.",
}

JOURNAL_SIDES: dict[str, str] = {
    "sale": "credit",
    "capture": "credit",
    "ach_sale": "credit",
    "refund": "debit",
    "ach_refund": "debit",
    "void": "debit",
    # ledger operations decided by the posting rules (domain.posting.LedgerOperation)
    "payment": "credit",
    "reversal": "debit",
}
"""Which side of the customer account a payment kind posts to; absent kinds post nothing."""

CODE_TYPES = (*TEXT, FieldType.INTEGER)


def _message(
    code: Any, defaults: Mapping[str, str], table: Mapping[str, Any] | None, unknown: str
) -> str:
    key = table_key(code).strip()
    if table and key in table:
        return str(table[key])
    if key in defaults:
        return defaults[key]
    return unknown.format(code=key)


@transform("response_message", accepts=CODE_TYPES, returns=FieldType.STRING)
def response_message(
    value: Any,
    *,
    table: Mapping[str, Any] | None = None,
    unknown: str = "Unrecognised PayTrace response code {code}.",
) -> str:
    """A PayTrace ``response_code`` → a human message (``table`` entries win)."""
    return _message(value, RESPONSE_MESSAGES, table, unknown)


@transform("error_message", accepts=CODE_TYPES, returns=FieldType.STRING)
def error_message(
    value: Any,
    *,
    table: Mapping[str, Any] | None = None,
    unknown: str = "PayTrace error {code}.",
) -> str:
    """A PayTrace ``errors`` code → a human message (``table`` entries win)."""
    return _message(value, ERROR_MESSAGES, table, unknown)


def side_of(kind: Any) -> str:
    if not isinstance(kind, str):
        raise TransformError(f"a payment kind is text, got {kind!r}")
    side = JOURNAL_SIDES.get(kind)
    if side is None:
        known = ", ".join(JOURNAL_SIDES)
        raise TransformError(
            f"payment kind {kind!r} posts no journal line (posting kinds: {known})"
        )
    return side


@transform("journal_side", accepts=TEXT, returns=FieldType.STRING)
def journal_side(value: Any) -> str:
    """A payment kind → ``credit`` or ``debit``; kinds that post nothing are an error."""
    return side_of(value)


@transform("journal_amount", accepts=NUMBER, returns=FieldType.DECIMAL)
def journal_amount(value: Any, *, side: str, kind: str) -> Decimal:
    """The amount when ``kind`` posts to ``side`` (``credit``/``debit``), else zero."""
    if side not in ("credit", "debit"):
        raise TransformError(f"side must be credit or debit, got {side!r}")
    amount = value if type(value) is Decimal else to_decimal(value)
    return amount if side_of(kind) == side else amount - amount
