"""The sandbox's journal-posting custom service, spoken to over HTTP as F&O would be."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.integration.d365.journals import (
    SERVICE_PATH,
    everything,
    invoice,
    invoice_transaction,
    journal,
    money,
    payment_line,
    rows,
)

OPEN_DATE = "1900-01-01T12:00:00Z"


@pytest.fixture
async def service(control, credential):
    """POST a contract to the posting service with a valid token; returns the answer."""
    token = await credential.token()

    async def call(batch: str, company: str = "usmf") -> httpx.Response:
        contract = {"DataAreaId": company, "JournalBatchNumber": batch}
        return await control.post(
            SERVICE_PATH,
            json={"_contract": contract},
            headers={"Authorization": f"Bearer {token}"},
        )

    return call


async def test_posting_marks_the_journal_posted_and_settles_the_marked_invoices(
    client, control, service
):
    paid, partly = await invoice(control, "100.00"), await invoice(control, "80.00")
    batch = await journal(
        client,
        payment_line("", "100.00", paid),
        payment_line("", "30.00", partly),
        payment_line("", "12.00"),  # on account: no invoice marked
    )
    key = {"dataAreaId": "usmf", "JournalBatchNumber": batch, "LineNumber": 2}
    await client.update("CustomerPaymentJournalLines", key, {"Voucher": ""})

    answer = await service(batch)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "$id": "1",
        "DataAreaId": "usmf",
        "JournalBatchNumber": batch,
        "IsPosted": True,
        "LineCount": 3,
        "TransactionCount": 3,
    }
    [header] = await rows(control, "CustomerPaymentJournalHeaders", JournalBatchNumber=batch)
    assert header["IsPosted"] == "Yes"
    lines = await rows(control, "CustomerPaymentJournalLines", JournalBatchNumber=batch)
    vouchers = [line["Voucher"] for line in lines]
    assert all(v.startswith("ARPM") for v in vouchers) and len(set(vouchers)) == 3
    payments = await rows(control, "CustTransactions", TransType="Payment", AccountNum="US-001")
    by_voucher = {p["Voucher"]: p for p in payments}
    assert sorted(money(by_voucher[v]["AmountCur"]) for v in vouchers) == [
        Decimal("-100.00"),
        Decimal("-30.00"),
        Decimal("-12.00"),
    ]
    full, part = (
        await invoice_transaction(control, paid),
        await invoice_transaction(control, partly),
    )
    assert (money(full["SettleAmountCur"]), full["Closed"] != OPEN_DATE) == (Decimal(100), True)
    assert (money(part["SettleAmountCur"]), part["Closed"]) == (Decimal(30), OPEN_DATE)


async def test_a_refund_marked_to_an_invoice_reopens_it(client, control, service):
    number = await invoice(control, "60.00")
    assert (await service(await journal(client, payment_line("", "60.00", number)))).is_success
    refund = payment_line("", "0", number, CreditAmount=Decimal(0), DebitAmount=Decimal("25.00"))

    assert (await service(await journal(client, refund))).is_success

    reopened = await invoice_transaction(control, number)
    assert money(reopened["SettleAmountCur"]) == Decimal("35.00")
    assert reopened["Closed"] == OPEN_DATE


async def test_settled_invoice_rows_say_how_much_of_each_invoice(client, control, service):
    first, second = await invoice(control, "50.00"), await invoice(control, "50.00")
    batch = await journal(client, payment_line("", "70.00"))
    for number, amount in ((first, "50.00"), (second, "20.00")):
        await client.create(
            "PaymentJournalLineSettledInvoices",
            {
                "JournalLineCompany": "usmf",
                "JournalBatchNumber": batch,
                "JournalLineNumber": 1,
                "InvoiceNumber": number,
                "InvoiceCompany": "usmf",
                "SettlementAmountInInvoiceCurrency": Decimal(amount),
            },
        )

    assert (await service(batch)).is_success

    assert money((await invoice_transaction(control, first))["SettleAmountCur"]) == 50
    assert money((await invoice_transaction(control, second))["SettleAmountCur"]) == 20


async def refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 500, answer.text
    body = answer.json()
    assert body["ExceptionType"] == "XppServicesException"
    return str(body["Message"])


async def test_each_refusal_leaves_journals_and_invoices_as_they_were(client, control, service):
    number = await invoice(control, "40.00")
    empty = await journal(client)
    unbalanced = await journal(
        client, payment_line("", "10.00", OffsetAccountDisplayValue="", OffsetAccountType="Ledger")
    )
    cross_currency = await journal(
        client,
        payment_line("", "40.00", number),  # would settle the invoice before the next line fails
        payment_line("", "5.00", number, CurrencyCode="EUR"),
    )
    before = await everything(control)

    assert "does not exist" in await refusal(await service("77777"))
    assert "has no lines" in await refusal(await service(empty))
    assert "do not balance" in await refusal(await service(unbalanced))
    assert "exchange rate" in await refusal(await service(cross_currency))

    assert await everything(control) == before
    assert money((await invoice_transaction(control, number))["SettleAmountCur"]) == 0


async def test_a_journal_is_posted_once(client, control, service):
    batch = await journal(client, payment_line("", "15.00"))
    assert (await service(batch)).is_success
    after_first = await everything(control)

    assert "already posted" in await refusal(await service(batch))
    assert await everything(control) == after_first


async def test_unknown_services_and_missing_tokens(control, credential):
    auth = {"Authorization": f"Bearer {await credential.token()}"}
    contract = {"_contract": {"DataAreaId": "usmf", "JournalBatchNumber": "00001"}}
    for path in (
        "/api/services/NoSuchGroup/PayledgerJournalService/postJournal",
        "/api/services/PayledgerServices/NoSuchService/postJournal",
        "/api/services/PayledgerServices/PayledgerJournalService/noSuchOperation",
    ):
        answer = await control.post(path, json=contract, headers=auth)
        assert answer.status_code == 404
        assert "No HTTP resource was found" in answer.json()["Message"]
    assert (await control.post(SERVICE_PATH, json=contract)).status_code == 401


async def test_get_describes_the_operation_and_posts_nothing(control, credential, sandbox):
    auth = {"Authorization": f"Bearer {await credential.token()}"}
    groups = await control.get("/api/services", headers=auth)
    assert groups.json() == {"ServiceGroups": [{"Name": "PayledgerServices"}]}
    described = await control.get(SERVICE_PATH, headers=auth)
    assert described.json()["Parameters"] == [
        {"Name": "_contract", "Type": "PayledgerPostJournalContract"}
    ]
    assert sandbox.state.posted_journals == []


async def test_the_service_names_come_from_the_settings(client, control, credential, service):
    changed = await control.put(
        "/_sandbox/settings", json={"journal_service": ["Finance", "Journals", "post"]}
    )
    assert changed.status_code == 200
    batch = await journal(client, payment_line("", "9.00"))
    assert (await service(batch)).status_code == 404  # the default names are gone
    answer = await control.post(
        "/api/services/Finance/Journals/post",
        json={"_contract": {"DataAreaId": "usmf", "JournalBatchNumber": batch}},
        headers={"Authorization": f"Bearer {await credential.token()}"},
    )
    assert answer.status_code == 200 and answer.json()["IsPosted"] is True


async def test_fault_switches_garble_or_remove_the_service(client, control, service):
    batch = await journal(client, payment_line("", "11.00"))
    await control.put("/_sandbox/faults", json={"service_answer": "missing"})
    assert (await service(batch)).status_code == 404
    assert (await rows(control, "CustomerPaymentJournalHeaders", JournalBatchNumber=batch))[0][
        "IsPosted"
    ] == "No"

    await control.put("/_sandbox/faults", json={"service_answer": "garbage"})
    garbled = await service(batch)
    assert garbled.status_code == 200 and garbled.text.startswith("<html>")
    [header] = await rows(control, "CustomerPaymentJournalHeaders", JournalBatchNumber=batch)
    assert header["IsPosted"] == "Yes"  # it ran; only the answer is garbage
