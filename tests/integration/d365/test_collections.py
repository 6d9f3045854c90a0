"""D365Collections against the F&O sandbox: a case's stages show on the customer (status field,
collections notes, a hold after the final attempt), and recovery takes back exactly what
payledger changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from payledger.adapters.d365 import D365Client, D365Ledger, D365Settings
from payledger.adapters.d365.collections import D365Collections, parse_note
from payledger.config import DunningCollectionsSettings
from payledger.domain.dunning import (
    Attempt,
    AttemptOutcome,
    CaseSource,
    CaseStatus,
    CollectionsStage,
    DeclineClass,
    DunningCase,
)
from payledger.domain.errors import RejectedError
from payledger.domain.money import Money
from payledger.flows.ports import CollectionsErp
from tests.integration.d365.journals import rows

PAST_DUE = CollectionsStage.PAST_DUE
FINAL = CollectionsStage.FINAL_ATTEMPT_FAILED
DECLINED = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)


def a_case(case_id: int = 7, invoice: str = "INV-7", customer: str = "US-001") -> DunningCase:
    first = Attempt(0, DECLINED, AttemptOutcome.DECLINED, DeclineClass.SOFT, "NSF")
    return DunningCase(
        id=case_id,
        source=CaseSource.AUTO_PAY,
        source_key=f"auto-pay:{invoice}:1",
        invoice_number=invoice,
        customer_account=customer,
        vault_customer_id="vault-1",
        amount=Money.of("125.00", "USD"),
        status=CaseStatus.RETRY_SCHEDULED,
        opened_at=DECLINED,
        next_attempt_at=None,
        attempts=(first,),
        reason="NSF - Insufficient funds",
    )


def recovered(case: DunningCase) -> DunningCase:
    return replace(case, status=CaseStatus.RECOVERED)


@pytest.fixture
def collections(client: D365Client) -> D365Collections:
    return D365Collections(D365Ledger(client, D365Settings()), DunningCollectionsSettings())


async def customer(control, account: str = "US-001") -> tuple[str, str]:
    [row] = await rows(control, "CustomersV3", CustomerAccount=account)
    return row["PayTraceCollectionStatus"], row["OnHoldStatus"]


async def notes(control, account: str = "US-001") -> list[dict]:
    return await rows(control, "CustomerCollectionsNotes", CustomerAccount=account)


async def hold(client: D365Client, value: str, account: str = "US-001") -> None:
    key = {"dataAreaId": "usmf", "CustomerAccount": account}
    await client.update("CustomersV3", key, {"OnHoldStatus": value})


def test_it_implements_the_port(collections):
    port: CollectionsErp = collections
    assert port is collections


async def test_past_due_sets_the_status_field_and_writes_a_note(collections, control):
    assert await customer(control) == ("", "No")

    await collections.advance(a_case(), PAST_DUE)

    assert await customer(control) == ("PastDue", "No")
    [note] = await notes(control)
    assert note["Reference"] == "payledger:dunning:7:past_due"
    assert note["Subject"] == "Payment past due"
    assert "Invoice INV-7: 125.00 USD could not be charged (NSF" in note["Note"]
    assert note["NoteId"].startswith("CN")


async def test_the_final_attempt_puts_the_customer_on_hold(collections, control):
    await collections.advance(a_case(), PAST_DUE)
    await collections.advance(a_case(), FINAL)

    assert await customer(control) == ("FinalAttemptFailed", "Invoice")
    references = sorted(n["Reference"] for n in await notes(control))
    assert references == [
        "payledger:dunning:7:final_attempt_failed",
        "payledger:dunning:7:past_due",
    ]


async def test_advancing_twice_is_advancing_once(collections, control):
    for _ in range(2):
        await collections.advance(a_case(), PAST_DUE)
        await collections.advance(a_case(), FINAL)

    assert len(await notes(control)) == 2
    assert await customer(control) == ("FinalAttemptFailed", "Invoice")


async def test_recovery_restores_what_was_there_before(collections, client, control):
    key = {"dataAreaId": "usmf", "CustomerAccount": "US-001"}
    await client.update("CustomersV3", key, {"PayTraceCollectionStatus": "Watched"})
    await collections.advance(a_case(), PAST_DUE)
    await collections.advance(a_case(), FINAL)

    await collections.undo(recovered(a_case()))

    assert await customer(control) == ("Watched", "No")
    [undone] = [n for n in await notes(control) if n["Reference"].endswith(":undone")]
    assert undone["Subject"] == "Payment collected"
    assert "INV-7 (125.00 USD) was paid" in undone["Note"]


async def test_undoing_twice_is_undoing_once(collections, client, control):
    await collections.advance(a_case(), FINAL)
    await collections.undo(recovered(a_case()))
    await hold(client, "Invoice")  # a person puts the customer on hold afterwards

    await collections.undo(recovered(a_case()))

    assert await customer(control) == ("", "Invoice")
    assert len(await notes(control)) == 2


async def test_a_customer_on_hold_for_another_reason_stays_on_hold(collections, client, control):
    await hold(client, "All")
    await collections.advance(a_case(), PAST_DUE)
    await collections.advance(a_case(), FINAL)
    assert await customer(control) == ("FinalAttemptFailed", "All")

    await collections.undo(recovered(a_case()))

    assert await customer(control) == ("", "All")


async def test_a_hold_someone_changed_meanwhile_is_left_alone(collections, client, control):
    await collections.advance(a_case(), FINAL)
    await hold(client, "All")

    await collections.undo(recovered(a_case()))

    assert await customer(control) == ("", "All")


async def test_the_hold_stays_while_another_case_is_past_its_final_attempt(collections, control):
    first, second = a_case(7, "INV-7"), a_case(8, "INV-8")
    await collections.advance(first, FINAL)
    await collections.advance(second, PAST_DUE)
    await collections.advance(second, FINAL)

    await collections.undo(recovered(first))
    assert await customer(control) == ("FinalAttemptFailed", "Invoice")

    await collections.undo(recovered(second))
    assert await customer(control) == ("", "No")


async def test_the_status_falls_back_to_the_stage_of_the_case_still_running(collections, control):
    first, second = a_case(7, "INV-7"), a_case(8, "INV-8")
    await collections.advance(first, FINAL)
    await collections.advance(second, PAST_DUE)

    await collections.undo(recovered(first))

    assert await customer(control) == ("PastDue", "No")


async def test_undo_of_a_case_never_advanced_changes_nothing(collections, control):
    await collections.undo(recovered(a_case()))

    assert await customer(control) == ("", "No")
    assert await notes(control) == []


async def test_a_late_stage_after_undo_is_not_written(collections, control):
    await collections.advance(a_case(), PAST_DUE)
    await collections.undo(recovered(a_case()))

    await collections.advance(a_case(), FINAL)

    assert await customer(control) == ("", "No")


async def test_configured_names_and_values_are_used(client, control):
    settings = DunningCollectionsSettings(
        status_field="PayTraceSubscriptionStatus",
        past_due_value="Overdue",
        final_attempt_failed_value="LastTryFailed",
        hold_value="All",
    )
    collections = D365Collections(D365Ledger(client), settings)

    await collections.advance(a_case(), FINAL)

    [row] = await rows(control, "CustomersV3", CustomerAccount="US-001")
    assert (row["PayTraceSubscriptionStatus"], row["OnHoldStatus"]) == ("LastTryFailed", "All")


async def test_an_unknown_customer_is_refused(collections):
    with pytest.raises(RejectedError):
        await collections.advance(a_case(customer="NOPE-1"), PAST_DUE)


def test_notes_that_are_not_payledgers_are_ignored():
    assert parse_note("someone else's", "text") is None
    assert parse_note("payledger:dunning:x:past_due", "") is None
    note = parse_note("payledger:dunning:3:past_due", 'a\npayledger-before: {"status": ""}')
    assert note is not None and (note.case_id, note.before) == (3, {"status": ""})


async def test_the_sandbox_numbers_notes_and_refuses_one_for_an_unknown_customer(client):
    note = {"dataAreaId": "usmf", "CustomerAccount": "US-001", "Note": "called"}
    created = await client.create("CustomerCollectionsNotes", note)
    assert created["NoteId"] == "CN000001"
    assert created["NoteDateTime"].startswith("20")

    with pytest.raises(RejectedError, match="NOPE-1"):
        await client.create("CustomerCollectionsNotes", {**note, "CustomerAccount": "NOPE-1"})


async def test_the_sandbox_takes_only_members_of_the_hold_enum(client):
    with pytest.raises(RejectedError):
        await hold(client, "Blocked")
    await hold(client, "Never")
