"""Everything one sandbox instance holds: settings, model, rows, reference data, clock, faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from payledger.sandbox.d365.catalog import Catalog, build_catalog
from payledger.sandbox.d365.settings import D365SandboxSettings
from payledger.sandbox.d365.store import Store
from payledger.sandbox.faults import FaultInjector


@dataclass(frozen=True)
class JournalName:
    """A journal name (setup): its journal type and voucher series."""

    name: str
    journal_type: str
    description: str
    voucher_prefix: str


@dataclass(frozen=True)
class Item:
    number: str
    name: str
    price: Decimal
    unit: str = "ea"


@dataclass
class ReferenceData:
    """Setup tables that are not exposed as entity sets here but that writes validate against."""

    journal_names: dict[str, JournalName] = field(default_factory=dict)
    customer_groups: set[str] = field(default_factory=set)
    currencies: set[str] = field(default_factory=set)
    payment_terms: set[str] = field(default_factory=set)
    bank_accounts: set[str] = field(default_factory=set)
    main_accounts: set[str] = field(default_factory=set)
    items: dict[str, Item] = field(default_factory=dict)
    accounting_currency: str = "USD"

    def journal_name(self, name: str) -> JournalName | None:
        return self.journal_names.get(name.casefold())


class Clock:
    """The sandbox's idea of now; tests move it forward to expire tokens."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Stats:
    tokens_issued: int = 0
    token_requests: int = 0
    odata_requests: int = 0
    unauthorized: int = 0
    batches: int = 0
    changesets_failed: int = 0
    write_requests: int = 0
    """Requests that ask for a change: a POST/PATCH/PUT/DELETE, or a $batch holding one."""


class SandboxState:
    """Mutable state of one sandbox app; reset returns it to the seeded demo."""

    def __init__(self, settings: D365SandboxSettings) -> None:
        self.settings = settings
        self.catalog: Catalog = build_catalog(settings.extension_fields)
        self.clock = Clock()
        self.faults = FaultInjector(settings.faults, seed=settings.fault_seed)
        self.store = Store(self.catalog)
        self.reference = ReferenceData()
        self.stats = Stats()
        self.posted_journals: list[dict[str, str]] = []

    def clear(self) -> None:
        self.store = Store(self.catalog)
        self.reference = ReferenceData()
        self.stats = Stats()
        self.posted_journals = []
