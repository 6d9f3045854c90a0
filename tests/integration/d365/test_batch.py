"""$batch: atomic changesets, per-part statuses, the single error part of a failed changeset."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payledger.adapters.d365 import BatchRequest, ODataQuery, escape_display_value, field, key_path
from payledger.adapters.d365.schemas import D365PaymentJournalLine
from payledger.domain.errors import RejectedError


def payment_line(batch: str, reference: str, account: str = "US-001") -> D365PaymentJournalLine:
    return D365PaymentJournalLine(
        dataAreaId="usmf",
        JournalBatchNumber=batch,
        AccountType="Cust",
        AccountDisplayValue=escape_display_value(account),
        CurrencyCode="USD",
        CreditAmount=Decimal("19.99"),
        PaymentReference=reference,
        OffsetAccountType="Bank",
        OffsetAccountDisplayValue="USMF OPER",
    )


async def lines_of(client, batch: str) -> list[dict]:
    query = ODataQuery("CustomerPaymentJournalLines").where(field("JournalBatchNumber").eq(batch))
    return await client.collect(query)


async def test_changeset_creates_all_lines_with_201_parts(ledger, client):
    header = await ledger.create_payment_journal("batch test")

    result = await ledger.add_payment_lines(
        header.JournalBatchNumber,
        [payment_line(header.JournalBatchNumber, f"pt-{i}") for i in range(3)],
    )

    assert [row["LineNumber"] for row in result.created] == [1, 2, 3]
    assert len({row["Voucher"] for row in result.created}) == 3
    assert len(await lines_of(client, header.JournalBatchNumber)) == 3


async def test_failed_changeset_writes_nothing_and_answers_one_error_part(ledger, client):
    header = await ledger.create_payment_journal("atomic")
    batch_number = header.JournalBatchNumber
    batch = BatchRequest()
    changes = batch.changeset()
    changes.post("CustomerPaymentJournalLines", payment_line(batch_number, "ok-1").body())
    changes.post("CustomerPaymentJournalLines", payment_line(batch_number, "bad", "NOPE").body())
    changes.post("CustomerPaymentJournalLines", payment_line(batch_number, "ok-2").body())

    response = await client.batch(batch)

    (changeset,) = response.changesets
    assert not changeset.ok
    assert len(changeset.parts) == 1
    assert changeset.parts[0].status == 500
    assert changeset.parts[0].content_id == "2"
    assert changeset.parts[0].error.is_write_error
    assert "The value 'NOPE' in field 'Account'" in changeset.parts[0].error.text
    assert await lines_of(client, batch_number) == []


async def test_ledger_reports_a_refused_changeset_as_rejected(ledger):
    header = await ledger.create_payment_journal("refused")

    with pytest.raises(RejectedError, match="NOPE"):
        await ledger.add_payment_lines(
            header.JournalBatchNumber, [payment_line(header.JournalBatchNumber, "x", "NOPE")]
        )


async def test_reads_outside_changesets_and_independent_changesets(ledger, client):
    header = await ledger.create_payment_journal("mixed")
    number = header.JournalBatchNumber
    batch = BatchRequest()
    read = batch.get(key_path("CustomersV3", {"dataAreaId": "usmf", "CustomerAccount": "US-002"}))
    good = batch.changeset()
    good.post("CustomerPaymentJournalLines", payment_line(number, "good").body())
    bad = batch.changeset()
    bad.post("CustomerPaymentJournalLines", payment_line(number, "bad", "NOPE").body())

    response = await client.batch(batch)

    first, second, third = response.items
    assert first.status == 200 and first.content_id == read.content_id
    assert first.json()["OrganizationName"] == "Contoso Retail Los Angeles"
    assert second.ok and second.parts[0].status == 201
    assert "Location" in {k.title() for k in second.parts[0].headers}
    assert not third.ok
    assert [row["PaymentReference"] for row in await lines_of(client, number)] == ["good"]
