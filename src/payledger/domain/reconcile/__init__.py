"""Settlement reconciliation, pure: PayTrace's settled transactions against D365's lines."""

from payledger.domain.reconcile.fees import ANY_CARD, FeeRule, FeeSchedule
from payledger.domain.reconcile.match import Reconciliation, reconcile, txn_of_reference
from payledger.domain.reconcile.model import (
    Discrepancy,
    GatewayTxn,
    Item,
    LedgerEntry,
    MatchRules,
    Period,
    TxnState,
)
from payledger.domain.reconcile.posting import InvoiceBalance, PostingFacts, posting_items
from payledger.domain.reconcile.render import to_csv, to_html, to_json
from payledger.domain.reconcile.report import ReportContext, build_report

__all__ = [
    "ANY_CARD",
    "Discrepancy",
    "FeeRule",
    "FeeSchedule",
    "GatewayTxn",
    "InvoiceBalance",
    "Item",
    "LedgerEntry",
    "MatchRules",
    "Period",
    "PostingFacts",
    "Reconciliation",
    "ReportContext",
    "TxnState",
    "build_report",
    "posting_items",
    "reconcile",
    "to_csv",
    "to_html",
    "to_json",
    "txn_of_reference",
]
