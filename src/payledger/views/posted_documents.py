"""A stored payment as the source document its journal line was mapped from, for previews."""

from __future__ import annotations

from typing import Any

from payledger.adapters.db.database import Database
from payledger.domain.model import Payment
from payledger.domain.posting import ORDER_OPERATION_PREFIX
from payledger.mapping import source_document
from payledger.views.timeline import event_postings


async def posted_document(database: Database, inbox_id: int, payment: Payment) -> dict[str, Any]:
    """``payment`` as a source document, with what the posting flow decided for its journal
    line (journal, line number, operation, reference, customer account) once it has one, so a
    preview shows what was sent."""
    document = source_document(payment)
    lines = [
        posting
        for posting in await event_postings(database, inbox_id)
        if not posting["operation"].startswith(ORDER_OPERATION_PREFIX)
    ]
    if lines:
        line = lines[0]
        document["context"] = {
            "journal_batch_number": line["journal_batch_number"] or "",
            "line_number": line["line_number"] or 0,
            "operation": line["operation"],
            "payment_reference": line["reference"],
        }
        document.setdefault("customer", {})["account"] = line["customer_account"]
    return document
