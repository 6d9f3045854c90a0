"""Fakes of the customer notices' and card-update page's ports (``flows.ports.notices``)."""

from __future__ import annotations

from payledger.domain.charges import ProtectCard
from payledger.domain.errors import RejectedError, TransientError
from payledger.flows.ports.notices import CardOnFile, Contact, CustomerContacts


class FakeContacts(CustomerContacts):
    """Contacts by customer account; ``down`` makes every lookup raise a transient error."""

    def __init__(self, contacts: dict[str, Contact] | None = None, *, down: bool = False) -> None:
        self.contacts = dict(contacts or {})
        self.down = down

    async def contact(self, customer_account: str) -> Contact | None:
        if self.down:
            raise TransientError("the ERP is down", system="fake")
        return self.contacts.get(customer_account)


class FakeCardOnFile(CardOnFile):
    """Records each replaced card as (customer id, card); ``refuse`` / ``down`` make it fail."""

    def __init__(self, *, refuse: bool = False, down: bool = False) -> None:
        self.replaced: list[tuple[str, ProtectCard]] = []
        self.refuse = refuse
        self.down = down

    async def replace_card(self, customer_id: str, card: ProtectCard) -> None:
        if self.down:
            raise TransientError("the gateway is down", system="fake")
        if self.refuse:
            raise RejectedError("invalid card", system="fake")
        self.replaced.append((customer_id, card))
