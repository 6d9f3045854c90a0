"""Collections notes on customers (``CustomerCollectionsNotes``), written by integrations.

F&O keeps collections activities and notes (Credit and collections > Collections) but the fact
sheet names no OData entity for writing them. UNCERTAIN, chosen here and mirrored by the
connector's defaults (``[dunning.collections]``): the set ``CustomerCollectionsNotes`` keyed
``dataAreaId, NoteId`` (a number sequence), the customer in ``CustomerAccount`` (which must
exist), a ``Subject``, the ``Note`` text, the writer's own ``Reference`` and the
``NoteDateTime``. The customer's collections status is an extension field
(``PayTraceCollectionStatus``) and the hold is ``OnHoldStatus`` (enum ``CustVendorBlocked``).
"""

from __future__ import annotations

from payledger.sandbox.d365.catalog import EntityType
from payledger.sandbox.d365.rules import EntityRules, Row, WriteContext, lookup_failed


class CollectionsNoteRules(EntityRules):
    """A note is numbered by the system, dated now if undated, and needs a known customer."""

    number_fields = {"NoteId": ("CollectionsNote", "CN{n:06d}")}

    def prepare_create(self, ctx: WriteContext, entity: EntityType, values: Row) -> None:
        if not values.get("NoteDateTime") or values["NoteDateTime"].year == 1900:
            values["NoteDateTime"] = ctx.state.clock.now()
        self.check_update(ctx, entity, values, values)

    def check_update(self, ctx: WriteContext, entity: EntityType, old: Row, new: Row) -> None:
        account = new.get("CustomerAccount", "")
        if not ctx.find("CustomersV3", dataAreaId=new["dataAreaId"], CustomerAccount=account):
            raise ctx.fail(
                entity, *lookup_failed(entity, "CustomerAccount", account, "Customer", "CustTable")
            )
