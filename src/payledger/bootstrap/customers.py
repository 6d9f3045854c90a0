"""Wiring of the customer and token sync: its command, ports and templates, and the
scheduled job."""

from __future__ import annotations

import structlog

from payledger.adapters.d365.customers import CustomerFields, D365CustomerDirectory
from payledger.adapters.paytrace.customers import PayTraceCustomerProfiles
from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.sync_customers import (
    CustomerSyncParts,
    SyncCustomers,
    SyncTemplates,
    run_customer_sync,
)
from payledger.mapping import compile_template

log = structlog.get_logger(__name__)

SYNC_CUSTOMERS = "customers.sync"
"""The job kind of one customer sync (scheduled on ``[sync] customers_cron``)."""


def customer_sync_command(settings: Settings, *, dry_run: bool = False) -> SyncCustomers:
    return SyncCustomers(
        customer_title=settings.paytrace.customer_title,
        erp_id_field=settings.d365.fields.customer_paytrace_id,
        conflict_policy=settings.sync.conflict_policy,
        blocked_statuses=frozenset(settings.sync.blocked_statuses),
        create_erp_customers=settings.sync.create_d365_customers,
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


async def customer_sync_parts(container: Container) -> CustomerSyncParts:
    """The configured D365 company's customers, the PayTrace account's profiles."""
    return CustomerSyncParts(
        erp=await customer_directory(container),
        gateway=PayTraceCustomerProfiles(await container.paytrace_client()),
        templates=customer_sync_templates(container),
    )


def sync_customers_job(container: Container) -> Handler:
    """One scheduled sync (one job per tick, never two at once: one ordering key)."""

    async def sync(_job: Job) -> None:
        report = await run_customer_sync(
            customer_sync_command(container.settings), await customer_sync_parts(container)
        )
        log.info(
            "customers.synced",
            paired=report.paired,
            d365_updated=report.written("erp"),
            paytrace_updated=report.written("gateway"),
            created_in_d365=len(report.created_in_erp),
            auto_pay_disabled=len(report.auto_pay_disabled),
            failures=len(report.failures),
        )

    return sync


def sync_schedule(settings: Settings) -> Schedule:
    return Schedule(
        name="customer-sync",
        cron=settings.sync.customers_cron,
        job_kind=SYNC_CUSTOMERS,
        ordering_key="customer-sync",
    )
