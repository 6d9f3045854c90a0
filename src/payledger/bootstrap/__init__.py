"""The composition root: builds every concrete part from the settings and wires them.

Nothing else constructs engines, clients or workers; the CLI and the web app ask for a
:class:`Container` and use what it holds. ``container`` holds the dependencies, ``jobs`` the
one table from job kind to handler, and one module per feature builds that feature's ports.
"""

from payledger.bootstrap.business_events import acts_on
from payledger.bootstrap.compose import build, run_scheduler
from payledger.bootstrap.container import Container
from payledger.bootstrap.customers import customer_sync_command, customer_sync_parts
from payledger.bootstrap.jobs import JobKind
from payledger.bootstrap.orders import order_gateway, order_parts, shop_orders
from payledger.bootstrap.payments import charge_ports
from payledger.bootstrap.reconcile import reconcile_parts, reconcile_policy
from payledger.bootstrap.webhooks import paytrace_deliveries

__all__ = [
    "Container",
    "JobKind",
    "acts_on",
    "build",
    "charge_ports",
    "customer_sync_command",
    "customer_sync_parts",
    "order_gateway",
    "order_parts",
    "paytrace_deliveries",
    "reconcile_parts",
    "reconcile_policy",
    "run_scheduler",
    "shop_orders",
]
