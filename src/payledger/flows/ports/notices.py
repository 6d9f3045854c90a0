"""Customer notices as their flows see them: the outbox they wait in, the customer's address,
the writer that turns one into an e-mail, the mail server, and the card-update links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from payledger.domain.card_links import CardLink
from payledger.domain.charges import ProtectCard
from payledger.domain.dunning import DunningCase, NoticeKind


class NoticeStatus(StrEnum):
    PENDING = "pending"
    """Waiting to be sent (again, after an outage, from ``next_try_at``)."""
    SENDING = "sending"
    """Handed to a sender; if its lease lapses the outcome is unknown (see the outbox)."""
    SENT = "sent"
    NO_ADDRESS = "no_address"
    """The customer has no e-mail address: not sent, the operators were alerted."""


@dataclass(frozen=True)
class Notice:
    """A notice a sender holds: one per (case, kind, attempt number)."""

    id: int
    case_id: int
    kind: NoticeKind
    attempt_no: int
    message_id: str
    """Chosen when the notice was stored: a resend carries the same one."""
    link: CardLink | None
    """The card-update link it carries (none in ``recovered``)."""
    tries: int
    """Sends begun before this one."""
    resumed: bool = False
    """An earlier sender began sending it and never said how it went."""


@dataclass(frozen=True)
class Contact:
    """Whom a notice goes to."""

    name: str
    email: str
    language: str = ""
    """The customer's language code as the ERP keeps it ("" when none)."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    message_id: str


class NoticeOutbox(Protocol):
    """Notices waiting to be sent; ``add`` runs in the step that decided on the notice."""

    async def add(
        self, case: DunningCase, kind: NoticeKind, *, message_id: str, link: CardLink | None
    ) -> bool:
        """Store the notice of ``case``'s last attempt (and its link's single-use row); False
        when that (case, kind, attempt) notice is already stored."""
        ...

    async def claim(
        self, now: datetime, *, limit: int, owner: str, lease: timedelta
    ) -> list[Notice]:
        """Lease up to ``limit`` notices to ``owner``, marked ``sending``: pending ones due at
        ``now``, and ``sending`` ones whose lease lapsed (``resumed``)."""
        ...

    async def sent(self, notice_id: int, *, to: str) -> None: ...

    async def later(self, notice_id: int, *, error: str, at: datetime) -> None:
        """Back to pending, tried again from ``at``."""
        ...

    async def no_address(self, notice_id: int) -> None: ...


class CustomerContacts(Protocol):
    """Where the customers' e-mail addresses are kept."""

    async def contact(self, customer_account: str) -> Contact | None:
        """The customer's contact (``email`` may be ""); None when the account is unknown.

        Raises:
            TransientError: the system keeping it cannot be reached now.
        """
        ...


class NoticeWriter(Protocol):
    """Writes a notice's e-mail in the customer's language."""

    def write(
        self, case: DunningCase, notice: Notice, contact: Contact, link_url: str
    ) -> Email: ...


class Mailer(Protocol):
    async def send(self, email: Email) -> None:
        """Hand ``email`` to the mail server.

        Raises:
            TransientError: the server could not be reached or refused it for now.
        """
        ...


class LinkUse(StrEnum):
    OPEN = "open"
    USED = "used"
    BUSY = "busy"
    """Another submission of the same link is being carried out."""
    TOO_MANY = "too_many"
    """More submissions than allowed: the link is closed."""
    UNKNOWN = "unknown"


class CardLinks(Protocol):
    """The single-use rows of card-update links."""

    async def state(self, nonce: str) -> LinkUse: ...

    async def begin(self, nonce: str, *, max_posts: int) -> LinkUse:
        """Count a submission and hold the link for it (``open`` when held)."""
        ...

    async def finish(self, nonce: str, *, used: bool) -> None:
        """The submission held by :meth:`begin` ended: consumed, or given back (the card was
        refused before anything changed)."""
        ...


class CardOnFile(Protocol):
    """The gateway's vault customers, whose card a customer replaces on the card-update page."""

    async def replace_card(self, customer_id: str, card: ProtectCard) -> None:
        """Keep ``card`` (encrypted in the customer's browser) on file for ``customer_id``.

        Raises:
            RejectedError: the gateway refused the card (nothing changed).
            TransientError: the gateway cannot be reached now.
        """
        ...
