"""Deposit posting: one general journal per settled batch, however often it is asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from payledger.adapters.db.tables import jobs
from payledger.bootstrap import reconcile_policy
from payledger.flows.post_deposit import DepositTemplates, post_deposit
from payledger.flows.reconcile_period import ReconcileCommand, reconcile_period
from payledger.mapping import compile_template, default_templates
from payledger.stores.reconciliation import POST_DEPOSIT, batch_of
from payledger.templates import template_settings
from tests.integration.reconcile.conftest import DAY, SETTINGS, seed_every_class
from tests.integration.reconcile.test_reconcile_sandboxes import NOW

POLICY = reconcile_policy(SETTINGS)


def templates() -> DepositTemplates:
    values, defaults = template_settings(SETTINGS), default_templates()
    return DepositTemplates(
        header=compile_template(defaults["d365_general_journal_header"], values),
        deposit=compile_template(defaults["d365_general_journal_deposit"], values),
        fee=compile_template(defaults["d365_general_journal_fee"], values),
    )


async def deposit_jobs(database) -> list:
    async with database.transaction() as conn:
        return (await conn.execute(select(jobs).where(jobs.c.kind == POST_DEPOSIT))).all()


async def reconcile(sandboxes, store):
    return await reconcile_period(
        ReconcileCommand(DAY, DAY),
        policy=POLICY,
        gateway=sandboxes.settlement(),
        ledger=sandboxes.lines(),
        store=store,
        clock=NOW,
    )


async def test_each_batch_gets_one_deposit_job_however_many_runs(sandboxes, recon_store, database):
    s = await seed_every_class(sandboxes)
    first = await reconcile(sandboxes, recon_store)
    second = await reconcile(sandboxes, recon_store)
    [job] = await deposit_jobs(database)
    assert job.dedupe_key == f"deposit:usmf:{s.batch}"
    deposits = [
        {b["batch"]: b["deposit"] for b in r.report["totals"]["by_batch"]} for r in (first, second)
    ]
    assert deposits == [{"ACH": "-", s.batch: "enqueued"}, {"ACH": "-", s.batch: "pending"}]
    batch = batch_of(job.payload)
    assert (batch.net.amount, batch.fees.amount) == (Decimal("337.64"), Decimal("9.03"))


async def test_posting_a_deposit_twice_leaves_one_journal_with_its_two_lines(
    sandboxes, recon_store, database
):
    s = await seed_every_class(sandboxes)
    await reconcile(sandboxes, recon_store)
    [job] = await deposit_jobs(database)
    batch = batch_of(job.payload)
    posted = await post_deposit(batch, templates=templates(), ledger=sandboxes.deposits())
    again = await post_deposit(batch, templates=templates(), ledger=sandboxes.deposits())
    assert (posted.created, posted.journal_existed) == (2, False)
    assert (again.created, again.journal_existed, again.journal) == (0, True, posted.journal)

    [header] = await sandboxes.rows("LedgerJournalHeaders", IntegrationKey=f"PT-BATCH-{s.batch}")
    assert header["JournalBatchNumber"] == posted.journal and header["JournalName"] == "GenJrn"
    lines = await sandboxes.rows("LedgerJournalLines", JournalBatchNumber=posted.journal)
    by_reference = {line["PaymentReference"]: line for line in lines}
    deposit, fee = by_reference[f"PT-DEPOSIT-{s.batch}"], by_reference[f"PT-FEES-{s.batch}"]
    assert len(lines) == 2
    assert (deposit["AccountDisplayValue"], Decimal(str(deposit["DebitAmount"]))) == (
        "USMF EUR",
        Decimal("337.64"),
    )
    assert (fee["AccountDisplayValue"], Decimal(str(fee["DebitAmount"]))) == (
        "618160",
        Decimal("9.03"),
    )
    assert {line["OffsetAccountDisplayValue"] for line in lines} == {"USMF OPER"}


async def test_a_deposit_interrupted_after_its_header_only_adds_the_lines(sandboxes):
    batch_number = "777"
    payload = {
        "company": "usmf",
        "number": batch_number,
        "settled_at": datetime(2026, 3, 25, 3, 0, tzinfo=UTC).isoformat(),
        "currency": "USD",
        "net": "90.00",
        "fees": "0",
        "sales": "100.00",
        "refunds": "10.00",
        "transaction_count": 3,
    }
    batch = batch_of(payload)
    header = templates().header.map({"batch": {"number": batch_number}})
    journal = await sandboxes.deposits().open_journal(header)  # the crash came right after this
    resumed = await post_deposit(batch, templates=templates(), ledger=sandboxes.deposits())
    assert (resumed.journal, resumed.journal_existed, resumed.created) == (journal, True, 1)
    [line] = await sandboxes.rows("LedgerJournalLines", JournalBatchNumber=journal)
    assert line["PaymentReference"] == f"PT-DEPOSIT-{batch_number}"  # no fee line without fees
    assert len(await sandboxes.rows("LedgerJournalHeaders", IntegrationKey="PT-BATCH-777")) == 1
