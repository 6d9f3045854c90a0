"""Wiring of recurring billing: the billing job and its schedule, and the ports the
subscription changes (API, CLI, console) work with."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import structlog

from payledger.adapters.d365.free_text_invoices import D365FreeTextInvoices, D365SubscriptionMirror
from payledger.adapters.paytrace import PayTraceClient
from payledger.bootstrap.container import Container
from payledger.bootstrap.customers import customer_directory
from payledger.bootstrap.dunning import subscription_dunning
from payledger.bootstrap.payments import charge_ports
from payledger.bootstrap.risk import item_screen
from payledger.config import Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.bill_subscriptions import BillingPorts, BillSubscriptions, bill_subscriptions
from payledger.flows.change_subscription import ChangePorts
from payledger.flows.ports import CustomerDirectory, FreeTextInvoicing, SubscriptionMirror
from payledger.stores.subscriptions import SqlSubscriptions

log = structlog.get_logger(__name__)

BILL_SUBSCRIPTIONS = "subscriptions.bill"
"""The job kind of one billing run (scheduled every ``[subscriptions] run_every_minutes``)."""


def subscriptions_enabled(settings: Settings) -> bool:
    return settings.subscriptions.enabled


async def free_text_invoicing(container: Container) -> FreeTextInvoicing:
    """D365's free-text invoices."""
    s = container.settings
    return D365FreeTextInvoices(await container.d365_ledger(), s.subscriptions, s.posting)


async def subscription_mirror(container: Container) -> SubscriptionMirror:
    """The subscription status field on D365 customers."""
    return D365SubscriptionMirror(await container.d365_ledger(), container.settings.subscriptions)


class ErpAndGatewaySubscribers:
    """``Subscribers``: customers in D365, card or bank accounts kept at PayTrace."""

    def __init__(self, customers: CustomerDirectory, paytrace: PayTraceClient) -> None:
        self.customers, self.paytrace = customers, paytrace

    async def gateway_customer(self, customer_account: str) -> str | None:
        found = await self.customers.customer(customer_account)
        return None if found is None else found.gateway_id

    async def has_payment_method(self, vault_customer_id: str) -> bool:
        profiles = await self.paytrace.export_customers(customer_id=vault_customer_id)
        return any(profile.customer_id == vault_customer_id for profile in profiles)


def bill_command(settings: Settings, *, owner: str) -> BillSubscriptions:
    s = settings.subscriptions
    return BillSubscriptions(
        catch_up=s.catch_up,
        max_per_run=s.max_per_run,
        revenue_account=s.revenue_account,
        owner=owner,
    )


async def billing_ports(
    container: Container,
    *,
    invoicing: Callable[[Container], Awaitable[FreeTextInvoicing]] = free_text_invoicing,
    mirror: Callable[[Container], Awaitable[SubscriptionMirror]] = subscription_mirror,
) -> BillingPorts:
    """What a billing run works with: the store, D365's invoices and status field, the
    charge ports of ``POST /api/v1/payments``, and dunning (when ``[dunning] enabled``)."""
    status_mirror = await mirror(container)
    return BillingPorts(
        store=SqlSubscriptions(container.database, container.clock),
        invoicing=await invoicing(container),
        mirror=status_mirror,
        charging=await charge_ports(
            container, screened_by=item_screen(container, BILL_SUBSCRIPTIONS)
        ),
        clock=container.clock,
        dunning=await subscription_dunning(container, status_mirror),
    )


async def change_ports(container: Container, *, charge_upgrades: bool = True) -> ChangePorts:
    """What the subscription changes work with (create, plan, pause, resume, cancel,
    payment method); an upgrade's proration is charged at once when ``charge_upgrades``."""
    subscribers = ErpAndGatewaySubscribers(
        await customer_directory(container), await container.paytrace_client()
    )
    return ChangePorts(
        store=SqlSubscriptions(container.database, container.clock),
        subscribers=subscribers,
        clock=container.clock,
        timezone=container.settings.subscriptions.timezone,
        billing=await billing_ports(container) if charge_upgrades else None,
        billing_command=bill_command(container.settings, owner=f"change:{os.getpid()}"),
        currency=container.settings.paytrace.currency,
    )


def bill_subscriptions_job(
    container: Container,
    *,
    invoicing: Callable[[Container], Awaitable[FreeTextInvoicing]] = free_text_invoicing,
    mirror: Callable[[Container], Awaitable[SubscriptionMirror]] = subscription_mirror,
) -> Handler:
    """One billing run per job: claim what is due, invoice it in D365, charge it at PayTrace."""

    async def bill(job: Job) -> None:
        ports = await billing_ports(container, invoicing=invoicing, mirror=mirror)
        command = bill_command(container.settings, owner=f"job-{job.id}:{os.getpid()}")
        report = await bill_subscriptions(command, ports)
        log.info(
            "subscriptions.billed",
            outcomes=report.outcomes,
            errors=report.errors[:20],
            stopped=report.stopped or None,
        )

    return bill


def billing_schedule(settings: Settings) -> Schedule:
    """Every ``run_every_minutes`` (below an hour: at minutes divisible by it; from an hour
    on: every whole number of hours)."""
    minutes = settings.subscriptions.run_every_minutes
    cron = f"*/{minutes} * * * *" if minutes < 60 else f"0 */{minutes // 60} * * *"
    return Schedule(
        name="subscriptions-bill",
        cron=cron,
        job_kind=BILL_SUBSCRIPTIONS,
        ordering_key="subscriptions-bill",
    )
