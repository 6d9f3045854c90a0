"""Subscriptions as the billing run and the changes see them: where they are kept, who may
subscribe, and what happens after a declined charge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from payledger.domain.errors import DomainError
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import BillingEntry, Claim, EntryStatus, NewEntry


class StaleSubscription(DomainError):
    """The subscription changed since it was read (its version moved); read it again."""

    code = "conflict"


class UnknownSubscription(DomainError):
    """No subscription has this id."""

    code = "not_found"


@dataclass(frozen=True)
class ClaimedEntry:
    """An entry a billing run holds (leased to it), with its subscription as it is now."""

    entry: BillingEntry
    subscription: Subscription


class SubscriptionStore(Protocol):
    """Subscriptions and their billing entries; every change is audited.

    A period is billed once because claiming it inserts its entry under a unique
    (subscription, period, entry) key: whoever inserts first holds it."""

    async def add(self, subscription: Subscription, *, actor: str) -> Subscription:
        """Store a new subscription; returns it with its id, version 1 and creation time."""
        ...

    async def get(self, subscription_id: int) -> Subscription | None: ...

    async def change(
        self,
        subscription: Subscription,
        *,
        actor: str,
        action: str,
        detail: dict[str, Any],
        entry: NewEntry | None = None,
        lease_owner: str = "",
    ) -> tuple[Subscription, BillingEntry | None]:
        """Store ``subscription`` over the stored one of the same version (then version + 1),
        with ``entry`` (leased to ``lease_owner``) when given, and an audit entry, at once.

        Raises:
            StaleSubscription: the stored version is another one.
        """
        ...

    async def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        owner: str,
        lease: timedelta,
        plan: Callable[[Subscription], Claim],
    ) -> list[ClaimedEntry]:
        """Lease up to ``limit`` entries to ``owner``: first unfinished ones nobody holds
        (a run that stopped or died), then those ``plan`` gives for subscriptions due at
        ``now``, each claimed with the subscription's new state in one transaction."""
        ...

    async def start_charge(self, entry_id: int) -> bool:
        """Note that the entry's charge is starting; True if an earlier attempt had started."""
        ...

    async def advance(
        self,
        entry_id: int,
        status: EntryStatus,
        *,
        invoice_number: str = "",
        gateway_txn_id: str = "",
        error: str = "",
    ) -> None:
        """Move the entry to ``status`` (a final one releases its lease)."""
        ...

    async def release(self, entry_id: int, error: str) -> None:
        """Give the entry back where it is (one more attempt counted) for the next run."""
        ...

    async def renew(self, owner: str, until: datetime) -> int:
        """Hold ``owner``'s unfinished entries until ``until`` (a run still at work keeps its
        entries from being resumed by another); returns how many it holds."""
        ...

    async def settle_status(
        self, subscription_id: int, status: SubscriptionStatus, *, reason: str
    ) -> Subscription | None:
        """Set the status unless a change moved the subscription off a billed status
        meanwhile; returns it when the status changed."""
        ...

    async def entries(self, subscription_id: int) -> list[BillingEntry]:
        """Its entries, oldest period first (the billing history)."""
        ...


class Subscribers(Protocol):
    """Who may subscribe: customers in the ERP, and payment methods kept at the gateway."""

    async def gateway_customer(self, customer_account: str) -> str | None:
        """The ERP customer's gateway customer id ("" when none is set); None when the
        customer does not exist."""
        ...

    async def has_payment_method(self, vault_customer_id: str) -> bool:
        """Whether the gateway keeps a card or bank account under this customer id."""
        ...


class Dunning(Protocol):
    """What follows a declined or failed charge (the subscription is already past due)."""

    async def charge_missed(
        self, claimed: ClaimedEntry, outcome: EntryStatus, reason: str
    ) -> None: ...
