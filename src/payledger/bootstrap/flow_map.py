"""What each job kind touches, and the flows they make: the console's flow view reads this.

:data:`JOB_TOUCHES` says, for every row of ``bootstrap.jobs.JOB_KINDS``, what puts its jobs
in the queue, which kinds before it do, which mapping templates its wiring compiles and which
vendor entities it reads or writes besides them (a template's own target is read from the
template in force). :data:`FLOWS` groups the kinds in the order work passes through them.
Tests fail when a kind has no entry, sits in no flow, or is said to run on a schedule it does
not have; :func:`flow_views` joins all of it with the settings of a built container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from payledger.alerts.center import DISPATCH_ALERTS
from payledger.alerts.scans import SCAN_ALERTS
from payledger.bootstrap.container import Container
from payledger.bootstrap.customers import SYNC_CUSTOMERS
from payledger.bootstrap.dunning import RETRY_DUNNING
from payledger.bootstrap.housekeeping import PURGE_IDEMPOTENCY_KEYS
from payledger.bootstrap.jobs import JOB_KINDS, JobKind
from payledger.bootstrap.journals import POST_JOURNALS
from payledger.bootstrap.payments import POLL_PAYTRACE
from payledger.bootstrap.refunds import REFUND_HELD
from payledger.bootstrap.risk import TRAIN_RISK
from payledger.bootstrap.subscriptions import BILL_SUBSCRIPTIONS
from payledger.bootstrap.webhooks import FETCH_HINTED
from payledger.stores.business_events import PROCESS_BUSINESS_EVENT
from payledger.stores.notices import SEND_NOTICES
from payledger.stores.payment_events import PROCESS_PAYMENT
from payledger.stores.postings import FLUSH_JOURNALS
from payledger.stores.reconciliation import POST_DEPOSIT, RUN_RECONCILIATION
from payledger.stores.shop_orders import COMPLETE_ORDER

DEFAULT_VERSION = "default"


class Source(StrEnum):
    """What puts a job kind's jobs in the queue from outside payledger's own steps."""

    WEBHOOK = "webhook"
    API = "API"
    SCHEDULE = "schedule"
    OPERATOR = "operator"
    """The console or the CLI."""


@dataclass(frozen=True)
class Entity:
    """A vendor entity: for D365, the ``[d365.entity_sets]`` setting naming its entity set."""

    system: str
    """``d365`` or ``paytrace``."""
    name: str


def d365(entity_set: str) -> Entity:
    return Entity("d365", entity_set)


def paytrace(what: str) -> Entity:
    return Entity("paytrace", what)


@dataclass(frozen=True)
class Touches:
    """One job kind's place in a flow."""

    sources: tuple[Source, ...] = ()
    after: tuple[str, ...] = ()
    """Kinds of the same flow whose jobs enqueue this kind's."""
    templates: tuple[str, ...] = ()
    """Templates its wiring compiles; each one's target entity is written."""
    reads: tuple[Entity, ...] = ()
    writes: tuple[Entity, ...] = ()
    """Written without a template of its own (e.g. lines another kind mapped)."""


JOURNAL_LINE = "d365_payment_journal_line"
CHARGE_REQUEST = "paytrace_transaction_request"

JOB_TOUCHES: Mapping[str, Touches] = {
    POLL_PAYTRACE: Touches((Source.SCHEDULE,), reads=(paytrace("transactions export"),)),
    FETCH_HINTED: Touches((Source.WEBHOOK,), reads=(paytrace("transaction"),)),
    PROCESS_PAYMENT: Touches(
        (Source.API,),
        after=(POLL_PAYTRACE, FETCH_HINTED),
        templates=(JOURNAL_LINE, "d365_order_payment_status"),
        reads=(d365("customers"), d365("sales_orders"), d365("invoices")),
    ),
    FLUSH_JOURNALS: Touches(
        after=(PROCESS_PAYMENT,),
        writes=(d365("payment_journal_headers"), d365("payment_journal_lines")),
    ),
    POST_JOURNALS: Touches(
        (Source.SCHEDULE, Source.OPERATOR),
        after=(FLUSH_JOURNALS,),
        reads=(d365("customer_transactions"),),
        writes=(d365("payment_journal_headers"),),
    ),
    PROCESS_BUSINESS_EVENT: Touches(
        (Source.WEBHOOK,), templates=(CHARGE_REQUEST,), reads=(d365("invoices"),)
    ),
    COMPLETE_ORDER: Touches(
        (Source.API,),
        templates=("d365_customer", "d365_sales_order_header", "d365_sales_order_line"),
    ),
    SYNC_CUSTOMERS: Touches(
        (Source.SCHEDULE,),
        templates=("paytrace_customer_profile", "d365_customer_from_paytrace", "d365_customer"),
    ),
    BILL_SUBSCRIPTIONS: Touches(
        (Source.SCHEDULE,),
        templates=(CHARGE_REQUEST,),
        reads=(d365("customers"),),
        writes=(d365("free_text_invoice_headers"), d365("free_text_invoice_lines")),
    ),
    RETRY_DUNNING: Touches((Source.SCHEDULE,), templates=(CHARGE_REQUEST,)),
    SEND_NOTICES: Touches((Source.SCHEDULE,), after=(RETRY_DUNNING,), reads=(d365("customers"),)),
    TRAIN_RISK: Touches((Source.SCHEDULE,)),
    REFUND_HELD: Touches((Source.OPERATOR,), reads=(paytrace("transactions export"),)),
    RUN_RECONCILIATION: Touches(
        (Source.SCHEDULE,),
        templates=("d365_payment_journal_summary_line", "d365_payment_journal_summary_fee"),
        reads=(paytrace("settlement batches"), d365("payment_journal_lines")),
    ),
    POST_DEPOSIT: Touches(
        after=(RUN_RECONCILIATION,),
        templates=(
            "d365_general_journal_header",
            "d365_general_journal_deposit",
            "d365_general_journal_fee",
        ),
    ),
    SCAN_ALERTS: Touches((Source.SCHEDULE,)),
    DISPATCH_ALERTS: Touches(after=(SCAN_ALERTS,)),
    PURGE_IDEMPOTENCY_KEYS: Touches((Source.SCHEDULE,)),
}


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    kinds: tuple[str, ...]
    """In the order work passes through them."""


FLOWS: tuple[Flow, ...] = (
    Flow(
        "payments",
        "Payments to D365 journals",
        (POLL_PAYTRACE, FETCH_HINTED, PROCESS_PAYMENT, FLUSH_JOURNALS, POST_JOURNALS),
    ),
    Flow("auto-pay", "Posted invoices charged (auto-pay)", (PROCESS_BUSINESS_EVENT,)),
    Flow("orders", "Shop orders to D365 sales orders", (COMPLETE_ORDER,)),
    Flow("customers", "Customers and card tokens", (SYNC_CUSTOMERS,)),
    Flow("billing", "Recurring billing", (BILL_SUBSCRIPTIONS,)),
    Flow("dunning", "Dunning", (RETRY_DUNNING, SEND_NOTICES)),
    Flow("risk", "Risk model retrained on the merchant's history", (TRAIN_RISK,)),
    Flow("refund-review", "Refunds held for risk review, made once approved", (REFUND_HELD,)),
    Flow("reconciliation", "Settlement reconciliation", (RUN_RECONCILIATION, POST_DEPOSIT)),
    Flow(
        "housekeeping",
        "Alerts and housekeeping",
        (SCAN_ALERTS, DISPATCH_ALERTS, PURGE_IDEMPOTENCY_KEYS),
    ),
)


def undescribed(kinds: tuple[JobKind, ...] = JOB_KINDS) -> list[str]:
    """Kinds of the job table without an entry in :data:`JOB_TOUCHES` or a place in a flow."""
    placed = {kind for flow in FLOWS for kind in flow.kinds}
    return [row.kind for row in kinds if row.kind not in JOB_TOUCHES or row.kind not in placed]


async def active_template_versions(container: Container) -> Mapping[str, str]:
    """The active version label of every template in force, by name: a saved version's
    number (``3``), or ``default`` for a template still on its seed file."""
    saved = await container.template_versions().active()
    return {
        name: str(saved[name].version) if name in saved else DEFAULT_VERSION
        for name in container.templates()
    }


@dataclass(frozen=True)
class TemplateUse:
    name: str
    version: str
    target: Entity | None
    """None when no template of that name is in force."""


@dataclass(frozen=True)
class Step:
    kind: str
    enabled: bool
    sources: tuple[Source, ...]
    after: tuple[str, ...]
    templates: tuple[TemplateUse, ...]
    reads: tuple[Entity, ...]
    writes: tuple[Entity, ...]


@dataclass(frozen=True)
class FlowView:
    name: str
    title: str
    steps: tuple[Step, ...]


def _entity_name(container: Container, entity: Entity) -> Entity:
    if entity.system != "d365":
        return entity
    return Entity("d365", str(getattr(container.settings.d365.entity_sets, entity.name)))


async def flow_views(container: Container) -> list[FlowView]:
    """Every flow as the container runs it: enabled kinds, templates in force and their
    active versions, D365 entity sets as configured."""
    rows = {row.kind: row for row in JOB_KINDS}
    templates = container.templates()
    versions = await active_template_versions(container)
    views = []
    for flow in FLOWS:
        steps = []
        for kind in flow.kinds:
            touches = JOB_TOUCHES[kind]
            uses = tuple(
                TemplateUse(
                    name,
                    versions.get(name, DEFAULT_VERSION),
                    Entity(templates[name].target.system, templates[name].target.entity)
                    if name in templates
                    else None,
                )
                for name in touches.templates
            )
            steps.append(
                Step(
                    kind,
                    rows[kind].enabled(container.settings),
                    touches.sources,
                    touches.after,
                    uses,
                    tuple(_entity_name(container, e) for e in touches.reads),
                    tuple(_entity_name(container, e) for e in touches.writes),
                )
            )
        views.append(FlowView(flow.name, flow.title, tuple(steps)))
    return views
