"""Post a settled batch's deposit: one general journal, found again by its integration key.

The journal moves the batch's payout from the clearing account to the bank account and its
expected fees to the fee expense account (templates ``d365_general_journal_header``,
``d365_general_journal_deposit`` and ``d365_general_journal_fee``). Running it again, after a
crash or a lost answer, finds the journal by its key and adds only the lines it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from payledger.domain.model import SettlementBatch
from payledger.flows.ports import DepositLedger
from payledger.mapping import CompiledTemplate, source_document


@dataclass(frozen=True)
class DepositTemplates:
    header: CompiledTemplate
    deposit: CompiledTemplate
    fee: CompiledTemplate


@dataclass(frozen=True)
class DepositPosted:
    journal: str
    created: int
    """Lines written now (0 when the deposit was complete already)."""
    journal_existed: bool


async def post_deposit(
    batch: SettlementBatch, *, templates: DepositTemplates, ledger: DepositLedger
) -> DepositPosted:
    """Make sure the deposit journal of ``batch`` exists with its lines, exactly once."""
    header = templates.header.map(source_document(batch=batch))
    key = str(header["IntegrationKey"])
    journal = await ledger.journal_with_key(key)
    existed = journal is not None
    if journal is None:
        journal = await ledger.open_journal(header)
    present = await ledger.line_references(journal) if existed else set()
    wanted = [templates.deposit]
    if batch.fees is not None and batch.fees.is_positive:
        wanted.append(templates.fee)
    lines = []
    for number, template in enumerate(wanted, 1):
        context = {"journal_batch_number": journal, "line_number": number}
        line = template.map(source_document(batch=batch, context=context))
        if line.get("PaymentReference") not in present:
            lines.append(line)
    if lines:
        await ledger.add_lines(journal, lines)
    return DepositPosted(journal, len(lines), existed)
