"""The ports flows speak through: ``Protocol`` classes that adapters and stores implement and
``bootstrap`` wires, with the data they exchange. One module per area; import from here."""

from payledger.flows.ports.alerts import OperatorAlerts
from payledger.flows.ports.billing import (
    FreeTextInvoice,
    FreeTextInvoicing,
    InvoiceLine,
    IssuedInvoice,
    SubscriptionMirror,
)
from payledger.flows.ports.charging import (
    CardGateway,
    ChargeAttempts,
    ChargeRecords,
    ErpRows,
    Receivables,
)
from payledger.flows.ports.customers import (
    CustomerDirectory,
    CustomerProfiles,
    ErpCustomer,
    GatewayProfile,
)
from payledger.flows.ports.dunning import (
    ClaimedAttempt,
    CollectionsErp,
    DunningNotices,
    DunningStore,
    MissedCharges,
    StaleCase,
    UnknownCase,
)
from payledger.flows.ports.inbox import DeliveryLog, HintedPayments, PaymentEventStore
from payledger.flows.ports.journal_posting import JournalPoster, JournalReadback
from payledger.flows.ports.journals import JournalBook
from payledger.flows.ports.ledger import JournalOpener, Ledger, LedgerWriteResult
from payledger.flows.ports.orders import ErpOrder, OrderGateway, SalesDesk, ShopOrderStore
from payledger.flows.ports.payments import DailyPaymentSource, PaymentLookup, PaymentSource
from payledger.flows.ports.postings import PostingStore
from payledger.flows.ports.reconcile import (
    DepositLedger,
    LedgerLines,
    PostingFollowUp,
    Progress,
    ReconStore,
    Settlement,
    SettlementSource,
    no_progress,
)
from payledger.flows.ports.schedules import (
    GatewaySchedule,
    GatewaySchedules,
    ImportedSubscriptions,
)
from payledger.flows.ports.subscriptions import (
    ClaimedEntry,
    Dunning,
    StaleSubscription,
    Subscribers,
    SubscriptionStore,
    UnknownSubscription,
)
from payledger.flows.ports.summary import SummaryStore

__all__ = [
    "CardGateway",
    "ChargeAttempts",
    "ChargeRecords",
    "ClaimedAttempt",
    "ClaimedEntry",
    "CollectionsErp",
    "CustomerDirectory",
    "CustomerProfiles",
    "DailyPaymentSource",
    "DeliveryLog",
    "DepositLedger",
    "Dunning",
    "DunningNotices",
    "DunningStore",
    "ErpCustomer",
    "ErpOrder",
    "ErpRows",
    "FreeTextInvoice",
    "FreeTextInvoicing",
    "GatewayProfile",
    "GatewaySchedule",
    "GatewaySchedules",
    "HintedPayments",
    "ImportedSubscriptions",
    "InvoiceLine",
    "IssuedInvoice",
    "JournalBook",
    "JournalOpener",
    "JournalPoster",
    "JournalReadback",
    "Ledger",
    "LedgerLines",
    "LedgerWriteResult",
    "MissedCharges",
    "OperatorAlerts",
    "OrderGateway",
    "PaymentEventStore",
    "PaymentLookup",
    "PaymentSource",
    "PostingFollowUp",
    "PostingStore",
    "Progress",
    "Receivables",
    "ReconStore",
    "SalesDesk",
    "Settlement",
    "SettlementSource",
    "ShopOrderStore",
    "StaleCase",
    "StaleSubscription",
    "Subscribers",
    "SubscriptionMirror",
    "SubscriptionStore",
    "SummaryStore",
    "UnknownCase",
    "UnknownSubscription",
    "no_progress",
]
