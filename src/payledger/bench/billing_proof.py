"""The proof of a billing bench, read from the sandboxes alone: per period key, the D365
free-text invoices carrying it, the approved PayTrace sales of its invoice and the D365
payment lines marking that invoice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CHARGED = ("PENDING", "SETTLED")
"""PayTrace sandbox statuses of an approved sale."""


@dataclass
class BillingProof:
    periods: int = 0
    invoiced: int = 0
    charged: int = 0
    posted: int = 0
    doubled_invoices: list[str] = field(default_factory=list)
    """Period keys with more than one D365 free-text invoice."""
    doubled_charges: list[str] = field(default_factory=list)
    """Period keys whose invoice PayTrace charged more than once."""
    doubled_payments: list[str] = field(default_factory=list)
    """Period keys whose invoice more than one D365 payment line marks."""
    missed: list[str] = field(default_factory=list)
    """Period keys not invoiced, charged and posted (each exactly once)."""

    @property
    def duplicates(self) -> int:
        return len(self.doubled_invoices) + len(self.doubled_charges) + len(self.doubled_payments)

    @property
    def ok(self) -> bool:
        return self.periods > 0 and self.duplicates == 0 and not self.missed


def judge(
    keys: Iterable[str],
    invoices: list[dict[str, Any]],
    payment_lines: list[dict[str, Any]],
    transactions: list[dict[str, Any]],
    *,
    key_field: str,
) -> BillingProof:
    """Count, for each period key, what the sandboxes hold."""
    headers = Counter(str(row.get(key_field, "")) for row in invoices)
    numbers = {
        str(row.get(key_field, "")): str(row.get("InvoiceId", ""))
        for row in invoices
        if row.get("IsPosted") == "Yes"
    }
    sales = Counter(
        str(t.get("invoice_id", ""))
        for t in transactions
        if t.get("transaction_type") == "SALE" and t.get("status_code") in CHARGED
    )
    marked = Counter(str(line.get("MarkedInvoice", "")) for line in payment_lines)
    proof = BillingProof()
    for key in keys:
        proof.periods += 1
        number = numbers.get(key, "")
        if headers[key] > 1:
            proof.doubled_invoices.append(key)
        if number and sales[number] > 1:
            proof.doubled_charges.append(key)
        if number and marked[number] > 1:
            proof.doubled_payments.append(key)
        proof.invoiced += bool(number)
        proof.charged += bool(number) and sales[number] >= 1
        proof.posted += bool(number) and marked[number] >= 1
        if not number or not sales[number] or not marked[number]:
            proof.missed.append(key)
    return proof
