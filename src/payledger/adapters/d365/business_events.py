"""D365 business events as payledger reads them: the ones it acts on, decoded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from payledger.flows.auto_pay import InvoicePosted

INVOICE_POSTED = "SalesInvoicePostedBusinessEvent"
"""The ``BusinessEventId`` of a posted sales invoice (what auto-pay charges)."""


def invoice_posted(payload: Mapping[str, Any], received_at: datetime) -> InvoicePosted:
    """A stored ``SalesInvoicePostedBusinessEvent`` envelope; a missing field reads as empty."""
    return InvoicePosted(
        invoice_number=str(payload.get("InvoiceId") or ""),
        customer_account=str(payload.get("InvoiceAccount") or ""),
        legal_entity=str(
            payload.get("LegalEntity") or payload.get("BusinessEventLegalEntity") or ""
        ),
        received_at=received_at,
    )
