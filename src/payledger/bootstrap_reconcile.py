"""Composition of settlement reconciliation (part of the composition root, see bootstrap):
the reconcile flow on the PayTrace and D365 adapters, the daily schedule and the deposit job.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog

from payledger.adapters.d365.reconcile import D365DepositJournal, D365PaymentLines
from payledger.adapters.paytrace.settlement import PayTraceSettlement
from payledger.domain.model import SettlementBatch
from payledger.domain.money import Money
from payledger.domain.reconcile import FeeRule, FeeSchedule, MatchRules
from payledger.engine.jobs import Job
from payledger.engine.schedule import Schedule
from payledger.flows.ports import OperatorAlerts as ReconAlerts
from payledger.flows.ports import Progress, no_progress
from payledger.flows.post_deposit import DepositPosted, DepositTemplates, post_deposit
from payledger.flows.reconcile_period import (
    ReconcileCommand,
    ReconcilePolicy,
    ReconcileResult,
    reconcile_period,
)
from payledger.mapping import compile_template
from payledger.stores.reconciliation import POST_DEPOSIT, RUN_RECONCILIATION, SqlReconStore

if TYPE_CHECKING:
    from payledger.bootstrap import Container
    from payledger.config import Settings

log = structlog.get_logger(__name__)


def match_rules(settings: Settings) -> MatchRules:
    r = settings.reconcile
    return MatchRules(
        amount_tolerance=r.amount_tolerance,
        date_window_days=r.date_window_days,
        settlement_days=r.settlement_days,
        lag_days=r.lag_days,
        fees=FeeSchedule(
            {card.upper(): FeeRule(rule.percent, rule.fixed) for card, rule in r.fees.items()}
        ),
    )


def reconcile_policy(settings: Settings) -> ReconcilePolicy:
    r = settings.reconcile
    return ReconcilePolicy(
        company=settings.d365.company,
        rules=match_rules(settings),
        auto_heal=r.auto_heal,
        deposits=r.deposits,
        alert_threshold=r.alert_threshold,
        report_url=r.report_url,
    )


def recon_store(container: Container) -> SqlReconStore:
    return SqlReconStore(container.inbox)


async def payment_lines(container: Container) -> D365PaymentLines:
    s = container.settings
    return D365PaymentLines(
        await container.d365_client(),
        company=s.d365.company,
        hand_keyed_methods=s.reconcile.hand_keyed_methods or [s.d365.payment_method],
        lines_set=s.d365.entity_sets.payment_journal_lines,
        headers_set=s.d365.entity_sets.payment_journal_headers,
    )


async def run_reconciliation(
    container: Container,
    first: date,
    last: date,
    *,
    trigger: str = "cli",
    progress: Progress = no_progress,
) -> ReconcileResult:
    """Reconcile the PayTrace days ``first``..``last`` against the configured D365 company."""
    s = container.settings
    alerts: ReconAlerts = container.alerts
    return await reconcile_period(
        ReconcileCommand(first, last, trigger),
        policy=reconcile_policy(s),
        gateway=PayTraceSettlement(
            await container.paytrace_client(), customer_title=s.paytrace.customer_title
        ),
        ledger=await payment_lines(container),
        store=recon_store(container),
        clock=container.clock,
        alerts=alerts,
        progress=progress,
    )


def previous_day(tick: datetime, timezone: str) -> date:
    """The vendor-local day before the one ``tick`` falls on (the day a run reconciles)."""
    return tick.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def deposit_templates(container: Container) -> DepositTemplates:
    templates, values = container.templates(), container.template_settings()
    return DepositTemplates(
        header=compile_template(templates["d365_general_journal_header"], values),
        deposit=compile_template(templates["d365_general_journal_deposit"], values),
        fee=compile_template(templates["d365_general_journal_fee"], values),
    )


def batch_of(payload: dict[str, Any]) -> SettlementBatch:
    """The batch a deposit job carries (see ``stores.reconciliation.deposit_payload``)."""
    currency = str(payload["currency"])

    def money(name: str) -> Money:
        return Money(Decimal(str(payload[name])), currency)

    return SettlementBatch(
        number=str(payload["number"]),
        settled_at=datetime.fromisoformat(str(payload["settled_at"])),
        net=money("net"),
        transaction_count=int(payload["transaction_count"]),
        sales=money("sales"),
        refunds=money("refunds"),
        fees=money("fees"),
    )


async def post_batch_deposit(container: Container, payload: dict[str, Any]) -> DepositPosted:
    d = container.settings.d365
    journal = D365DepositJournal(
        await container.d365_client(),
        company=d.company,
        headers_set=d.entity_sets.ledger_journal_headers,
        lines_set=d.entity_sets.ledger_journal_lines,
    )
    return await post_deposit(
        batch_of(payload), templates=deposit_templates(container), ledger=journal
    )


def register_reconciliation(container: Container) -> None:
    """The deposit job, the scheduled run's job and, when enabled, the daily schedule."""
    s = container.settings

    async def deposit(job: Job) -> None:
        posted = await post_batch_deposit(container, job.payload)
        log.info(
            "reconcile.deposit_posted",
            batch=job.payload["number"],
            journal=posted.journal,
            lines=posted.created,
        )

    async def daily(job: Job) -> None:
        tick = datetime.fromisoformat(str(job.payload["tick"]))
        day = previous_day(tick, s.paytrace.timezone)
        result = await run_reconciliation(container, day, day, trigger="schedule")
        log.info(
            "reconcile.finished",
            run=result.run_id,
            day=day.isoformat(),
            exceptions=result.exceptions,
        )

    container.handlers[POST_DEPOSIT] = deposit
    container.handlers[RUN_RECONCILIATION] = daily
    if s.reconcile.enabled:
        hours, minutes = s.reconcile.daily_at.split(":")
        container.schedules.append(
            Schedule(
                name="reconcile-daily",
                cron=f"{int(minutes)} {int(hours)} * * *",
                job_kind=RUN_RECONCILIATION,
                timezone=s.paytrace.timezone,
                ordering_key="reconcile",
            )
        )
