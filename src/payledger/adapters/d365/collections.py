"""D365 collections for dunning: a status field, notes, and a hold on the customer.

Each stage a case reaches writes one collections note (reference
``payledger:dunning:<case>:<stage>``) *before* it changes the customer, and the note records
what the customer's fields held before payledger changed them (a last line
``payledger-before: {...}``). The notes are payledger's memory in D365: :meth:`undo` reads them
back, so a lost answer or a second call changes nothing twice.

The rule, per customer (several cases may run at once):

- the status field shows the furthest stage of the customer's cases still running in D365
  (a case with a stage note and no ``undone`` note); when the last one is undone it gets back
  the value it had before payledger's first case, unless someone changed it meanwhile;
- the hold is set only on a customer whose hold field holds ``released_value``; it stays while
  one of payledger's running cases is past its final attempt, and is released (to the value
  recorded) only if it still holds ``hold_value``: a customer on hold for another reason,
  before or since, stays on hold.

UNCERTAIN (``[dunning.collections]``): the notes entity and its fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from payledger.adapters.d365.ledger import D365Ledger
from payledger.adapters.d365.odata import ODataQuery
from payledger.adapters.d365.odata import field as odata_field
from payledger.config import DunningCollectionsSettings
from payledger.domain.dunning import CaseStatus, CollectionsStage, DunningCase

PREFIX = "payledger:dunning:"
UNDONE = "undone"
BEFORE = "payledger-before: "
_ORDER = (CollectionsStage.PAST_DUE, CollectionsStage.FINAL_ATTEMPT_FAILED)
_SUBJECTS = {
    CollectionsStage.PAST_DUE: "Payment past due",
    CollectionsStage.FINAL_ATTEMPT_FAILED: "Final payment attempt failed",
    UNDONE: "Payment collected",
}


@dataclass(frozen=True)
class Note:
    """One of payledger's notes on a customer: its case, its stage (or ``undone``), and the
    customer's values before payledger (``status``; ``hold`` if payledger holds the hold)."""

    case_id: int
    kind: str
    before: dict[str, str] = field(default_factory=dict)


def parse_note(reference: str, text: str) -> Note | None:
    """The note behind ``reference`` and ``text``, or None if it is not payledger's."""
    case, _, kind = reference.removeprefix(PREFIX).partition(":")
    if not reference.startswith(PREFIX) or not case.isdigit() or not kind:
        return None
    last = text.rstrip().rpartition("\n")[2]
    before: dict[str, str] = {}
    if last.startswith(BEFORE):
        try:
            loaded = json.loads(last.removeprefix(BEFORE))
        except ValueError:
            loaded = {}
        before = {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return Note(int(case), kind, before)


def running(notes: list[Note], *, but: int = 0) -> dict[int, list[Note]]:
    """The customer's cases still running in D365 (other than ``but``), with their notes."""
    undone = {n.case_id for n in notes if n.kind == UNDONE}
    cases: dict[int, list[Note]] = {}
    for note in notes:
        if note.case_id not in undone and note.case_id != but:
            cases.setdefault(note.case_id, []).append(note)
    return cases


def _furthest(cases: dict[int, list[Note]]) -> CollectionsStage | None:
    stages = [CollectionsStage(n.kind) for ns in cases.values() for n in ns if n.kind != UNDONE]
    return max(stages, key=_ORDER.index) if stages else None


def _holder(cases: dict[int, list[Note]]) -> Note | None:
    """A final-stage note by which payledger holds the customer's hold, if any."""
    return next(
        (
            n
            for ns in cases.values()
            for n in ns
            if n.kind == CollectionsStage.FINAL_ATTEMPT_FAILED and "hold" in n.before
        ),
        None,
    )


class D365Collections:
    """Implements ``flows.ports.CollectionsErp`` on D365 customers (``[dunning.collections]``)."""

    def __init__(self, ledger: D365Ledger, settings: DunningCollectionsSettings) -> None:
        self.client = ledger.client
        self.company = ledger.settings.company
        self.customers = ledger.sets.customers
        self.s = settings

    async def advance(self, case: DunningCase, stage: CollectionsStage) -> None:
        notes = await self._notes(case.customer_account)
        if any(n.case_id == case.id and n.kind == UNDONE for n in notes):
            return  # taken back already: a late step does not put it in again
        current = await self._customer(case.customer_account)
        if not any(n.case_id == case.id and n.kind == stage for n in notes):
            note = Note(case.id, stage.value, self._before(notes, current, stage))
            await self._write_note(case, note)
            notes.append(note)
        await self._apply(case.customer_account, current, running(notes))

    async def undo(self, case: DunningCase) -> None:
        notes = await self._notes(case.customer_account)
        mine = [n for n in notes if n.case_id == case.id]
        if not mine or any(n.kind == UNDONE for n in mine):
            return  # never advanced, or undone already
        current = await self._customer(case.customer_account)
        others = running(notes, but=case.id)
        changes: dict[str, str] = {}
        stage = _furthest(others)
        status = self.s.status_field
        if status and stage is not None:
            changes[status] = self._value(stage)
        elif status and current.get(status) in self._values():
            changes[status] = next((n.before["status"] for n in mine if "status" in n.before), "")
        holder = _holder(running(notes))
        held = self.s.hold_field and current.get(self.s.hold_field) == self.s.hold_value
        if held and holder is not None and _holder(others) is None:  # a hold no one else set
            changes[self.s.hold_field] = holder.before["hold"]
        await self._patch(case.customer_account, current, changes)
        await self._write_note(case, Note(case.id, UNDONE))

    def _before(
        self, notes: list[Note], current: dict[str, str], stage: CollectionsStage
    ) -> dict[str, str]:
        cases = running(notes)
        known = [n.before for ns in cases.values() for n in ns if "status" in n.before]
        before = {"status": known[0]["status"] if known else current.get(self.s.status_field, "")}
        if stage is CollectionsStage.FINAL_ATTEMPT_FAILED and self.s.hold_field:
            holder = _holder(cases)
            if holder is not None:
                before["hold"] = holder.before["hold"]
            elif current.get(self.s.hold_field) == self.s.released_value:
                before["hold"] = self.s.released_value
        return before

    async def _apply(
        self, account: str, current: dict[str, str], cases: dict[int, list[Note]]
    ) -> None:
        changes: dict[str, str] = {}
        stage = _furthest(cases)
        if self.s.status_field and stage is not None:
            changes[self.s.status_field] = self._value(stage)
        if self.s.hold_field and _holder(cases) is not None:
            changes[self.s.hold_field] = self.s.hold_value
        await self._patch(account, current, changes)

    def _value(self, stage: CollectionsStage) -> str:
        if stage is CollectionsStage.FINAL_ATTEMPT_FAILED:
            return self.s.final_attempt_failed_value
        return self.s.past_due_value

    def _values(self) -> set[str]:
        return {self.s.past_due_value, self.s.final_attempt_failed_value}

    def _key(self, account: str) -> dict[str, str]:
        return {"dataAreaId": self.company, "CustomerAccount": account}

    async def _customer(self, account: str) -> dict[str, str]:
        fields = tuple(f for f in (self.s.status_field, self.s.hold_field) if f)
        if not fields:
            return {}
        record = await self.client.get(self.customers, self._key(account), select=fields)
        return {f: str(record.get(f) or "") for f in fields}

    async def _patch(self, account: str, current: dict[str, str], changes: dict[str, str]) -> None:
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        if changed:  # setting a value twice is harmless, so a lost answer is simply resent
            await self.client.update(self.customers, self._key(account), changed)

    async def _notes(self, account: str) -> list[Note]:
        s = self.s
        query = (
            ODataQuery(s.notes_entity)
            .where(
                odata_field("dataAreaId").eq(self.company)
                & odata_field(s.note_customer_field).eq(account)
            )
            .select(s.note_reference_field, s.note_text_field)
        )
        rows = await self.client.collect(query)
        parsed = (
            parse_note(
                str(r.get(s.note_reference_field) or ""), str(r.get(s.note_text_field) or "")
            )
            for r in rows
        )
        return [n for n in parsed if n is not None]

    async def _write_note(self, case: DunningCase, note: Note) -> None:
        s = self.s
        reference = f"{PREFIX}{case.id}:{note.kind}"
        body: dict[str, Any] = {
            "dataAreaId": self.company,
            s.note_customer_field: case.customer_account,
            s.note_reference_field: reference,
            s.note_subject_field: _SUBJECTS.get(note.kind, note.kind),
            s.note_text_field: _text(case, note),
        }
        if s.note_time_field:
            body[s.note_time_field] = case.last_attempt.at.isoformat()
        found = ODataQuery(s.notes_entity).where(
            odata_field("dataAreaId").eq(self.company)
            & odata_field(s.note_reference_field).eq(reference)
        )
        await self.client.create_once(s.notes_entity, body, found)


def _text(case: DunningCase, note: Note) -> str:
    amount = f"{case.amount.amount} {case.amount.currency}"
    if note.kind == UNDONE:
        how = "was paid" if case.status is CaseStatus.RECOVERED else "was settled another way"
        lines = [f"Invoice {case.invoice_number} ({amount}) {how}; collections step taken back."]
    else:
        lines = [
            f"Invoice {case.invoice_number}: {amount} could not be charged "
            f"({case.reason or 'declined'})."
        ]
    lines.append(f"payledger dunning case {case.id}.")
    if note.before:
        lines.append(BEFORE + json.dumps(note.before, sort_keys=True))
    return "\n".join(lines)
