"""Every job kind payledger runs, and what runs it: one table.

A row names the kind, the factory of its handler (given the container, once per build),
optionally the factory of its batch handler (a claim round at a time), whether workers
claim it ahead of older jobs, when it is enabled, and its schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from payledger.alerts.center import DISPATCH_ALERTS
from payledger.alerts.scans import SCAN_ALERTS
from payledger.bootstrap import (
    alerts,
    business_events,
    customers,
    dunning,
    dunning_notices,
    housekeeping,
    journals,
    orders,
    payments,
    posting,
    reconcile,
    refunds,
    risk,
    subscriptions,
    webhooks,
)
from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.engine.jobs import BatchHandler, Handler
from payledger.engine.schedule import Schedule
from payledger.stores.business_events import PROCESS_BUSINESS_EVENT
from payledger.stores.notices import SEND_NOTICES
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS
from payledger.stores.reconciliation import POST_DEPOSIT, RUN_RECONCILIATION
from payledger.stores.shop_orders import COMPLETE_ORDER


def always(_settings: Settings) -> bool:
    return True


def paytrace_enabled(settings: Settings) -> bool:
    return settings.paytrace.enabled


def d365_enabled(settings: Settings) -> bool:
    return settings.d365.enabled


def customer_sync_enabled(settings: Settings) -> bool:
    return settings.sync.customers_enabled


@dataclass(frozen=True)
class JobKind:
    kind: str
    handler: Callable[[Container], Handler]
    batch: Callable[[Container], BatchHandler] | None = None
    """Set for kinds whose jobs a worker hands over a claim round at a time."""
    priority: bool = False
    """Claimed ahead of older jobs of other kinds."""
    enabled: Callable[[Settings], bool] = always
    schedule: Callable[[Settings], Schedule | None] | None = None
    """The kind's schedule, if it has one (``None`` from it: not scheduled now)."""


JOB_KINDS: tuple[JobKind, ...] = (
    JobKind(
        housekeeping.PURGE_IDEMPOTENCY_KEYS,
        housekeeping.purge_idempotency_keys,
        schedule=housekeeping.hourly_purge,
    ),
    JobKind(POST_DEPOSIT, reconcile.post_deposit_job),
    JobKind(RUN_RECONCILIATION, reconcile.daily_reconciliation, schedule=reconcile.daily_schedule),
    JobKind(PROCESS_BUSINESS_EVENT, business_events.process_business_event),
    JobKind(webhooks.FETCH_HINTED, webhooks.fetch_hinted_payment),
    JobKind(SCAN_ALERTS, alerts.scan_alerts, schedule=alerts.scan_schedule),
    JobKind(DISPATCH_ALERTS, alerts.dispatch_alerts),
    JobKind(
        payments.POLL_PAYTRACE,
        payments.poll_paytrace,
        enabled=paytrace_enabled,
        schedule=payments.poll_schedule,
    ),
    JobKind(
        PROCESS_PAYMENT,
        posting.process_payment,
        batch=posting.process_payments,
        enabled=d365_enabled,
    ),
    JobKind(FLUSH_JOURNALS, posting.flush_postings, priority=True, enabled=d365_enabled),
    JobKind(
        journals.POST_JOURNALS,
        journals.post_journals_job,
        enabled=d365_enabled,
        schedule=journals.post_schedule,
    ),
    JobKind(
        customers.SYNC_CUSTOMERS,
        customers.sync_customers_job,
        enabled=customer_sync_enabled,
        schedule=customers.sync_schedule,
    ),
    JobKind(COMPLETE_ORDER, orders.complete_order_job),
    JobKind(
        subscriptions.BILL_SUBSCRIPTIONS,
        subscriptions.bill_subscriptions_job,
        enabled=subscriptions.subscriptions_enabled,
        schedule=subscriptions.billing_schedule,
    ),
    JobKind(
        dunning.RETRY_DUNNING,
        dunning.retry_dunning_job,
        enabled=dunning.dunning_enabled,
        schedule=dunning.retry_schedule,
    ),
    JobKind(
        SEND_NOTICES,
        dunning_notices.send_notices_job,
        enabled=dunning.dunning_enabled,
        schedule=dunning_notices.notices_schedule,
    ),
    JobKind(
        risk.TRAIN_RISK,
        risk.train_risk_job,
        enabled=risk.risk_enabled,
        schedule=risk.train_schedule,
    ),
    JobKind(refunds.REFUND_HELD, refunds.release_held_refund),
)


def register_jobs(container: Container, kinds: tuple[JobKind, ...] = JOB_KINDS) -> None:
    """Give ``container`` the handlers, priorities and schedules of the enabled ``kinds``."""
    for row in kinds:
        if not row.enabled(container.settings):
            continue
        container.handlers[row.kind] = row.handler(container)
        if row.batch is not None:
            container.batch_handlers[row.kind] = row.batch(container)
        if row.priority:
            container.priority_kinds.append(row.kind)
        schedule = row.schedule(container.settings) if row.schedule else None
        if schedule is not None:
            container.schedules.append(schedule)
