"""The console's navigation: each page with the least role that may use it."""

from __future__ import annotations

from dataclasses import dataclass

from payledger.stores.api_clients import Role


@dataclass(frozen=True)
class Link:
    path: str
    """Under ``/console``."""
    label: str
    role: Role = Role.VIEWER


NAVIGATION: tuple[Link, ...] = (
    Link("/", "Dashboard"),
    Link("/payments", "Payments"),
    Link("/dead-letters", "Dead letters"),
    Link("/journals", "Journals"),
    Link("/subscriptions", "Subscriptions"),
    Link("/dunning", "Dunning"),
    Link("/risk", "Risk review"),
    Link("/reconciliation", "Reconciliation"),
    Link("/mapping", "Mapping preview"),
    Link("/studio", "Mapping studio", Role.MAPPER),
    Link("/flows", "Flows"),
    Link("/connections", "Connections"),
)


def menu(role: Role, links: tuple[Link, ...] = NAVIGATION) -> list[Link]:
    """The links ``role`` may follow, in order."""
    return [link for link in links if role.includes(link.role)]
