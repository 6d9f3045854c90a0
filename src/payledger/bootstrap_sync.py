"""Composition of the customer and token sync (part of the composition root, see bootstrap)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from payledger.adapters.d365.customers import CustomerFields, D365CustomerDirectory
from payledger.adapters.paytrace.customers import PayTraceCustomerProfiles
from payledger.engine.jobs import Job
from payledger.engine.schedule import Schedule
from payledger.flows.sync_customers import SyncCustomers, SyncReport, SyncTemplates, sync_customers
from payledger.mapping import compile_template

if TYPE_CHECKING:
    from payledger.bootstrap import Container

log = structlog.get_logger(__name__)

SYNC_CUSTOMERS = "customers.sync"
"""The job kind of one customer sync (scheduled on ``[sync] customers_cron``)."""


def customer_sync_command(container: Container, *, dry_run: bool = False) -> SyncCustomers:
    s = container.settings
    return SyncCustomers(
        customer_title=s.paytrace.customer_title,
        erp_id_field=s.d365.fields.customer_paytrace_id,
        conflict_policy=s.sync.conflict_policy,
        blocked_statuses=frozenset(s.sync.blocked_statuses),
        create_erp_customers=s.sync.create_d365_customers,
        dry_run=dry_run,
    )


def customer_sync_templates(container: Container) -> SyncTemplates:
    templates, values = container.templates(), container.template_settings()
    return SyncTemplates(
        to_gateway=compile_template(templates["paytrace_customer_profile"], values),
        to_erp=compile_template(templates["d365_customer_from_paytrace"], values),
        new_erp_customer=compile_template(templates["d365_customer"], values),
    )


async def customer_directory(container: Container) -> D365CustomerDirectory:
    d = container.settings.d365
    return D365CustomerDirectory(
        await container.d365_client(),
        company=d.company,
        entity_set=d.entity_sets.customers,
        fields=CustomerFields(
            gateway_id=d.fields.customer_paytrace_id,
            sync=d.fields.customer_sync,
            auto_pay=d.fields.customer_auto_pay,
        ),
    )


async def run_customer_sync(container: Container, *, dry_run: bool = False) -> SyncReport:
    """One customer sync between the configured D365 company and PayTrace account."""
    return await sync_customers(
        customer_sync_command(container, dry_run=dry_run),
        erp=await customer_directory(container),
        gateway=PayTraceCustomerProfiles(await container.paytrace_client()),
        templates=customer_sync_templates(container),
    )


def register_customer_sync(container: Container) -> None:
    """The scheduled sync: one job per tick, never two at once (one ordering key)."""

    async def sync(_job: Job) -> None:
        report = await run_customer_sync(container)
        log.info(
            "customers.synced",
            paired=report.paired,
            d365_updated=report.written("erp"),
            paytrace_updated=report.written("gateway"),
            created_in_d365=len(report.created_in_erp),
            auto_pay_disabled=len(report.auto_pay_disabled),
            failures=len(report.failures),
        )

    container.handlers[SYNC_CUSTOMERS] = sync
    container.schedules.append(
        Schedule(
            name="customer-sync",
            cron=container.settings.sync.customers_cron,
            job_kind=SYNC_CUSTOMERS,
            ordering_key="customer-sync",
        )
    )
