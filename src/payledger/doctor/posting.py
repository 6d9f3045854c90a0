"""Are the D365 custom-service operations there that payledger is to call?

The journal-posting operation is checked when ``[posting] post`` is not ``never``; the
free-text-invoice one (``[subscriptions] invoice_operation``) when ``[subscriptions]`` is
enabled. The check is a ``GET`` on the operation, which F&O answers with the operation's
description (UNCERTAIN, as the service itself): nothing is posted.
"""

from __future__ import annotations

from payledger.adapters.d365 import D365Client, D365NotFound
from payledger.adapters.d365.journal_service import service_url
from payledger.config import Settings
from payledger.doctor.report import CONFIGURE, Finding, attempt, fail, ok

NAME = "posting service"
INVOICE_NAME = "invoice posting service"


async def _describe(client: D365Client, url: str, name: str, hint: str, why: str) -> Finding:
    answer = await attempt(lambda: client.request("GET", url, operation=f"describe the {name}"))
    if isinstance(answer, D365NotFound):
        return fail(CONFIGURE, name, f"{url}: not found (HTTP 404)", hint)
    if isinstance(answer, Exception):
        return fail(CONFIGURE, name, f"{url}: {answer}", "see the D365 checks above")
    return ok(CONFIGURE, name, f"{url} answers ({why}; this check posts nothing)")


async def verify_posting_service(client: D365Client, settings: Settings) -> list[Finding]:
    """A finding per operation payledger will call: its URL answers, or why not."""
    posting, billing = settings.posting, settings.subscriptions
    findings = []
    if posting.post != "never":
        hint = (
            "deploy the journal-posting extension in F&O, or set [posting] service_group, "
            'service and operation to the names it registers (or [posting] post = "never")'
        )
        url = service_url(client, posting)
        why = f"[posting] post = {posting.post}"
        findings.append(await _describe(client, url, NAME, hint, why))
    if billing.enabled:
        hint = (
            "deploy the operation that posts free-text invoices, or set [subscriptions] "
            "invoice_operation (and [posting] service_group, service) to its names"
        )
        url = service_url(client, posting, billing.invoice_operation)
        why = "[subscriptions] enabled"
        findings.append(await _describe(client, url, INVOICE_NAME, hint, why))
    return findings


SUMMARY_NAME = "summary mode"


def verify_summary_mode(settings: Settings) -> list[Finding]:
    """In daily-summary mode: the summary lines' customer is set, and reconciliation (which
    makes the lines once it sees a batch settled) runs every day."""
    if settings.posting.granularity != "daily_summary":
        return []
    if not settings.d365.summary_customer_account:
        return [
            fail(
                CONFIGURE,
                SUMMARY_NAME,
                "[d365] summary_customer_account is empty",
                "set it to the D365 customer the summary lines are credited to",
            )
        ]
    if not settings.reconcile.enabled:
        return [
            fail(
                CONFIGURE,
                SUMMARY_NAME,
                "[reconcile] enabled = false: no summary line is made until a reconciliation "
                "sees its batch settled",
                "set [reconcile] enabled = true, or run `payledger reconcile` every day",
            )
        ]
    account = settings.d365.summary_customer_account
    return [ok(CONFIGURE, SUMMARY_NAME, f"one line per batch and method, credited to {account}")]
