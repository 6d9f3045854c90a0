"""``payledger doctor`` checks the D365 journal-posting service when payledger is to post."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from tests.integration.doctor.conftest import SECRETS, Sandboxes, configured, diagnosed


async def posted_journals(sandboxes: Sandboxes) -> list[object]:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=sandboxes.cert)) as http:
        state = (await http.get(f"{sandboxes.d365}/_sandbox/state")).json()
    return list(state["posted_journals"])


async def test_the_service_answers_and_nothing_is_posted(sandboxes: Sandboxes, tmp_path: Path):
    settings = configured(sandboxes, tmp_path, posting={"post": "when_balanced"})

    findings = await diagnosed(settings, SECRETS)

    service = findings["posting service"]
    assert service.status == "ok", service
    url = f"{sandboxes.d365}/api/services/PayledgerServices/PayledgerJournalService/postJournal"
    assert url in service.detail
    assert findings["entity sets"].status == "ok"  # CustTransactions included
    assert await posted_journals(sandboxes) == []


async def test_a_misnamed_service_fails_with_the_posting_keys_to_fix(
    sandboxes: Sandboxes, tmp_path: Path
):
    settings = configured(
        sandboxes, tmp_path, posting={"post": "after_review", "service": "JournalSvc"}
    )

    service = (await diagnosed(settings, SECRETS))["posting service"]

    assert service.status == "FAIL"
    assert "JournalSvc/postJournal: not found (HTTP 404)" in service.detail
    assert "[posting] service_group, service and operation" in service.hint


async def test_nothing_about_posting_is_checked_when_payledger_never_posts(
    sandboxes: Sandboxes, tmp_path: Path
):
    absent = {"entity_sets": {"customer_transactions": "NoSuchTransactions"}}
    never = await diagnosed(configured(sandboxes, tmp_path, d365=absent), SECRETS)
    assert "posting service" not in never
    assert never["entity sets"].status == "ok"

    posting = configured(sandboxes, tmp_path, d365=absent, posting={"post": "when_balanced"})
    checked = await diagnosed(posting, SECRETS)
    assert checked["entity sets"].status == "FAIL"
    assert "customer_transactions = NoSuchTransactions" in checked["entity sets"].detail
