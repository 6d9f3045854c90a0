"""Wiring of settlement reconciliation: the reconcile flow on the PayTrace and D365
adapters, the daily run and the deposit job."""

from __future__ import annotations

from datetime import datetime

import structlog

from payledger.adapters.d365.reconcile import D365DepositJournal, D365PaymentLines
from payledger.adapters.paytrace.settlement import PayTraceSettlement
from payledger.bootstrap.container import Container
from payledger.config import Settings
from payledger.domain.errors import ConfigError
from payledger.domain.reconcile import FeeRule, FeeSchedule, MatchRules
from payledger.domain.reconcile.runs import previous_day
from payledger.engine.jobs import Handler, Job
from payledger.engine.schedule import Schedule
from payledger.flows.post_deposit import DepositTemplates, post_deposit
from payledger.flows.post_summary import SummaryPosting, SummaryTemplates
from payledger.flows.reconcile_period import ReconcileParts, ReconcilePolicy, run_reconciliation
from payledger.mapping import compile_template
from payledger.stores.reconciliation import RUN_RECONCILIATION, SqlReconStore, batch_of
from payledger.stores.summary import SqlSummaryStore

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
        unposted_alert_hours=settings.posting.unposted_alert_hours,
    )


async def payment_lines(container: Container) -> D365PaymentLines:
    s = container.settings
    return D365PaymentLines(
        await container.d365_client(),
        company=s.d365.company,
        hand_keyed_methods=s.reconcile.hand_keyed_methods or [s.d365.payment_method],
        lines_set=s.d365.entity_sets.payment_journal_lines,
        headers_set=s.d365.entity_sets.payment_journal_headers,
        transactions_set=s.d365.entity_sets.customer_transactions,
    )


async def reconcile_parts(container: Container) -> ReconcileParts:
    """PayTrace's settlement against the configured D365 company's payment lines."""
    s = container.settings
    lines = await payment_lines(container)
    return ReconcileParts(
        policy=reconcile_policy(s),
        gateway=PayTraceSettlement(
            await container.paytrace_client(), customer_title=s.paytrace.customer_title
        ),
        ledger=lines,
        store=SqlReconStore(container.inbox),
        clock=container.clock,
        alerts=container.alerts,
        summary=summary_posting(container),
        posting=lines,
    )


def summary_posting(container: Container) -> SummaryPosting | None:
    """Daily-summary mode's templates and store; None in per-payment mode."""
    s = container.settings
    if s.posting.granularity != "daily_summary":
        return None
    if not s.d365.summary_customer_account:
        raise ConfigError(
            '[posting] granularity = "daily_summary" needs [d365] summary_customer_account: '
            "the customer account the summary lines credit"
        )
    templates, values = container.templates(), container.template_settings()
    return SummaryPosting(
        company=s.d365.company,
        templates=SummaryTemplates(
            line=compile_template(templates["d365_payment_journal_summary_line"], values),
            fee=compile_template(templates["d365_payment_journal_summary_fee"], values),
        ),
        store=SqlSummaryStore(container.queue),
    )


def deposit_templates(container: Container) -> DepositTemplates:
    templates, values = container.templates(), container.template_settings()
    return DepositTemplates(
        header=compile_template(templates["d365_general_journal_header"], values),
        deposit=compile_template(templates["d365_general_journal_deposit"], values),
        fee=compile_template(templates["d365_general_journal_fee"], values),
    )


async def deposit_journal(container: Container) -> D365DepositJournal:
    d = container.settings.d365
    return D365DepositJournal(
        await container.d365_client(),
        company=d.company,
        headers_set=d.entity_sets.ledger_journal_headers,
        lines_set=d.entity_sets.ledger_journal_lines,
    )


def post_deposit_job(container: Container) -> Handler:
    """Post one settled batch's deposit journal."""

    async def deposit(job: Job) -> None:
        journal = await deposit_journal(container)
        posted = await post_deposit(
            batch_of(job.payload), templates=deposit_templates(container), ledger=journal
        )
        log.info(
            "reconcile.deposit_posted",
            batch=job.payload["number"],
            journal=posted.journal,
            lines=posted.created,
        )

    return deposit


def daily_reconciliation(container: Container) -> Handler:
    """The scheduled run: the vendor-local day before the tick."""

    async def daily(job: Job) -> None:
        tick = datetime.fromisoformat(str(job.payload["tick"]))
        day = previous_day(tick, container.settings.paytrace.timezone)
        parts = await reconcile_parts(container)
        result = await run_reconciliation(day, day, parts, trigger="schedule")
        log.info(
            "reconcile.finished",
            run=result.run_id,
            day=day.isoformat(),
            exceptions=result.exceptions,
        )

    return daily


def daily_schedule(settings: Settings) -> Schedule | None:
    """``[reconcile] daily_at`` in the vendor's time zone, when reconciliation is enabled."""
    if not settings.reconcile.enabled:
        return None
    hours, minutes = settings.reconcile.daily_at.split(":")
    return Schedule(
        name="reconcile-daily",
        cron=f"{int(minutes)} {int(hours)} * * *",
        job_kind=RUN_RECONCILIATION,
        timezone=settings.paytrace.timezone,
        ordering_key="reconcile",
    )
