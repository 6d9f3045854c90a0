"""Wiring of PayTrace's own recurring schedules: importing them as subscriptions (and taking
them over), and the store the payment recognition records their charges in."""

from __future__ import annotations

from payledger.adapters.paytrace.recurrences import PayTraceSchedules
from payledger.bootstrap.container import Container
from payledger.bootstrap.customers import customer_directory
from payledger.flows.import_schedules import ImportPorts, ImportSchedules
from payledger.stores.subscription_imports import SqlImportedSubscriptions


def imported_subscriptions(container: Container) -> SqlImportedSubscriptions:
    return SqlImportedSubscriptions(container.database, container.clock)


def import_command(
    container: Container, *, take_over: bool, dry_run: bool, actor: str
) -> ImportSchedules:
    """Imported subscriptions count their periods in PayTrace's calendar, as its runs did."""
    return ImportSchedules(
        timezone=container.settings.paytrace.timezone,
        take_over=take_over,
        dry_run=dry_run,
        actor=actor,
    )


async def import_ports(container: Container) -> ImportPorts:
    """PayTrace's recurrences, D365's customers (by their PayTrace customer id), the store."""
    return ImportPorts(
        schedules=PayTraceSchedules(await container.paytrace_client()),
        customers=await customer_directory(container),
        store=imported_subscriptions(container),
    )
