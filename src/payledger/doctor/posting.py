"""Is the D365 journal-posting service there, when payledger is to post journals?

Checked only when ``[posting] post`` is not ``never``. The check is a ``GET`` on the service's
operation, which F&O answers with the operation's description (UNCERTAIN, as the service
itself): nothing is posted.
"""

from __future__ import annotations

from payledger.adapters.d365 import D365Client, D365NotFound
from payledger.adapters.d365.journal_service import service_url
from payledger.config import Settings
from payledger.doctor.report import CONFIGURE, Finding, attempt, fail, ok

NAME = "posting service"


async def verify_posting_service(client: D365Client, settings: Settings) -> list[Finding]:
    """One finding when payledger posts journals: the service's URL answers, or why not."""
    posting = settings.posting
    if posting.post == "never":
        return []
    url = service_url(client, posting)
    answer = await attempt(
        lambda: client.request("GET", url, operation="describe the journal-posting service")
    )
    if isinstance(answer, D365NotFound):
        hint = (
            "deploy the journal-posting extension in F&O, or set [posting] service_group, "
            'service and operation to the names it registers (or [posting] post = "never")'
        )
        return [fail(CONFIGURE, NAME, f"{url}: not found (HTTP 404)", hint)]
    if isinstance(answer, Exception):
        return [fail(CONFIGURE, NAME, f"{url}: {answer}", "see the D365 checks above")]
    detail = f"{url} answers ([posting] post = {posting.post}; this check posts nothing)"
    return [ok(CONFIGURE, NAME, detail)]
