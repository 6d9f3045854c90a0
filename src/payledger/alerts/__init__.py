"""Alerts to operators: a deduplicating alert centre and pluggable sinks (webhook, SMTP)."""

from payledger.alerts.center import AlertCenter, Dispatched
from payledger.alerts.model import Alert, AlertDeliveryError, AlertSink, Severity
from payledger.alerts.scans import Thresholds, run_scans
from payledger.alerts.smtp import SmtpSink
from payledger.alerts.store import AlertStore, Occurrence, Windows
from payledger.alerts.watch import watch_batch_handlers, watch_handlers
from payledger.alerts.webhook import WebhookSink

__all__ = [
    "Alert",
    "AlertCenter",
    "AlertDeliveryError",
    "AlertSink",
    "AlertStore",
    "Dispatched",
    "Occurrence",
    "Severity",
    "SmtpSink",
    "Thresholds",
    "WebhookSink",
    "Windows",
    "run_scans",
    "watch_batch_handlers",
    "watch_handlers",
]
