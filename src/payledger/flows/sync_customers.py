"""Customer and token sync: ERP customers flagged for sync ⇄ gateway customer profiles.

Steps, in business terms: read the ERP customers in scope (flagged for sync, or carrying a
gateway id) and every gateway profile; pair them (the gateway id on the customer, else the ERP
account in the profile's discretionary data, else a profile named like the account); map each
pair both ways with the templates, let the conflict policy decide which value stays where the
two sides differ, and write only what changed, ids on both sides; turn auto-pay off for
customers blocked or deleted in the ERP; give profiles that belong to no ERP customer a new one.
Only tokens travel: the gateway keeps the cards, no card data passes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from payledger.domain.errors import MappingError, RejectedError
from payledger.flows.ports import (
    CustomerDirectory,
    CustomerProfiles,
    ErpCustomer,
    GatewayProfile,
)
from payledger.mapping import CompiledTemplate, source_document

ConflictPolicy = Literal["d365", "paytrace"]
ERP_KEYS = ("dataAreaId", "CustomerAccount")
"""Key fields of the ERP record: they identify the row, they are never compared."""


@dataclass(frozen=True)
class SyncCustomers:
    """Run one customer sync.

    Attributes:
        conflict_policy: whose value stays when both sides hold different values
            (``d365``: the ERP's; ``paytrace``: the gateway's). An empty side is always filled.
        customer_title: the discretionary field of a profile that holds the ERP account.
        erp_id_field: the ERP customer field that holds the gateway customer id.
        blocked_statuses: ERP block statuses that turn auto-pay off.
        create_erp_customers: give unlinked profiles a new ERP customer.
        dry_run: decide and report, write nothing.
    """

    customer_title: str
    erp_id_field: str
    conflict_policy: ConflictPolicy = "d365"
    blocked_statuses: frozenset[str] = frozenset({"Invoice", "All", "Payment"})
    create_erp_customers: bool = True
    dry_run: bool = False

    @property
    def link_field(self) -> str:
        return f"discretionary_data.{self.customer_title}"


@dataclass(frozen=True)
class SyncTemplates:
    to_gateway: CompiledTemplate
    """ERP customer → gateway profile (``paytrace_customer_profile``)."""
    to_erp: CompiledTemplate
    """Gateway profile → ERP customer update (``d365_customer_from_paytrace``)."""
    new_erp_customer: CompiledTemplate
    """Gateway profile → new ERP customer (``d365_customer``)."""


@dataclass(frozen=True)
class Change:
    """Fields written to one side for one customer."""

    subject: str
    side: Literal["erp", "gateway"]
    values: dict[str, Any]


@dataclass
class SyncReport:
    """What one sync saw and did (or, in a dry run, would do)."""

    in_scope: int = 0
    profiles: int = 0
    paired: int = 0
    in_step: int = 0
    """Pairs that needed no write at all."""
    awaiting_card: list[str] = field(default_factory=list)
    """Flagged ERP customers with no gateway profile (a card is added at the gateway only)."""
    created_in_erp: list[str] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)
    """Profiles left alone: their ERP customer exists but is not in scope, or is taken."""
    deleted_in_erp: list[str] = field(default_factory=list)
    """Profiles whose ERP customer no longer exists."""
    auto_pay_disabled: list[str] = field(default_factory=list)
    recurrences_stopped: int = 0
    conflicts: int = 0
    """Fields both sides held with different values, settled by the conflict policy."""
    ids_written: int = 0
    changes: list[Change] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def written(self, side: str) -> int:
        return sum(1 for change in self.changes if change.side == side)


async def sync_customers(
    cmd: SyncCustomers,
    *,
    erp: CustomerDirectory,
    gateway: CustomerProfiles,
    templates: SyncTemplates,
) -> SyncReport:
    """Bring ERP customers and gateway profiles in step; see the module docstring."""
    report = SyncReport()
    customers = await erp.customers_in_scope()
    profiles = {profile.customer_id: profile for profile in await gateway.profiles()}
    report.in_scope, report.profiles = len(customers), len(profiles)
    naming: dict[str, list[GatewayProfile]] = {}
    for candidate in profiles.values():
        named = str(candidate.fields.get(cmd.link_field) or "")
        naming.setdefault(named, []).append(candidate)
    claimed: set[str] = set()
    for customer in customers:
        profile = _profile_of(customer, profiles, naming, claimed)
        if profile is not None:
            claimed.add(profile.customer_id)
        work = _one_customer(
            cmd, customer, profile, report, erp=erp, gateway=gateway, templates=templates
        )
        await _guarded(report, customer.account, work)
    accounts = {customer.account for customer in customers}
    for profile in profiles.values():
        if profile.customer_id not in claimed:
            work = _unpaired_profile(cmd, profile, accounts, report, erp, gateway, templates)
            await _guarded(report, profile.customer_id, work)
    return report


async def _guarded(report: SyncReport, subject: str, work: Any) -> None:
    """Run one customer's work; a record that cannot be mapped or is refused is reported and
    the sync goes on (a transient failure stops it, and the job retries the whole sync)."""
    try:
        await work
    except (MappingError, RejectedError) as exc:
        report.failures.append((subject, str(exc)))


def _profile_of(
    customer: ErpCustomer,
    profiles: Mapping[str, GatewayProfile],
    naming: Mapping[str, list[GatewayProfile]],
    claimed: set[str],
) -> GatewayProfile | None:
    """The customer's profile: by its gateway id, else one naming its account (``naming``:
    profiles by the account they name), else a profile whose id is the account."""
    candidates = [profiles.get(customer.gateway_id)] if customer.gateway_id else []
    candidates += naming.get(customer.account, [])
    candidates.append(profiles.get(customer.account))
    return next((p for p in candidates if p is not None and p.customer_id not in claimed), None)


async def _one_customer(
    cmd: SyncCustomers,
    customer: ErpCustomer,
    profile: GatewayProfile | None,
    report: SyncReport,
    *,
    erp: CustomerDirectory,
    gateway: CustomerProfiles,
    templates: SyncTemplates,
) -> None:
    if customer.on_hold in cmd.blocked_statuses:
        await _disable_auto_pay(cmd, customer, profile, report, erp, gateway)
    if not customer.flagged:
        return
    if profile is None:
        report.awaiting_card.append(customer.account)
        return
    report.paired += 1
    to_gateway, to_erp = _reconcile(cmd, customer, profile, templates, report)
    if not to_gateway and not to_erp:
        report.in_step += 1
        return
    if to_erp:
        report.changes.append(Change(customer.account, "erp", to_erp))
        if not cmd.dry_run:
            await erp.update_customer(customer.account, to_erp)
    if to_gateway:
        report.changes.append(Change(profile.customer_id, "gateway", to_gateway))
        if not cmd.dry_run:
            await gateway.update_profile(profile, to_gateway)


def _reconcile(
    cmd: SyncCustomers,
    customer: ErpCustomer,
    profile: GatewayProfile,
    templates: SyncTemplates,
    report: SyncReport,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What each side must be told: ids always, an empty field always, a field both sides
    hold differently only on the side the policy says loses."""
    wanted_gateway = flatten(
        templates.to_gateway.map(source_document(enrich={"d365_customer": dict(customer.row)}))
    )
    wanted_gateway.pop("customer_id", None)  # the profile keeps its own id
    linked = replace(profile.customer, account=customer.account)
    wanted_erp = templates.to_erp.map(source_document(customer=linked))
    for key in ERP_KEYS:
        wanted_erp.pop(key, None)
    to_gateway = _changes(
        wanted_gateway, profile.fields, cmd.link_field, cmd.conflict_policy == "d365", report
    )
    to_erp = _changes(
        wanted_erp, customer.row, cmd.erp_id_field, cmd.conflict_policy == "paytrace", report
    )
    return to_gateway, to_erp


def _changes(
    wanted: Mapping[str, Any],
    current: Mapping[str, Any],
    id_field: str,
    wins: bool,
    report: SyncReport,
) -> dict[str, Any]:
    changes = {}
    for key, value in wanted.items():
        have = current.get(key)
        if same(value, have):
            continue
        if key == id_field:
            report.ids_written += 1
        elif not is_empty(have):
            if not wins:
                continue
            report.conflicts += 1
        changes[key] = value
    return changes


async def _disable_auto_pay(
    cmd: SyncCustomers,
    customer: ErpCustomer,
    profile: GatewayProfile | None,
    report: SyncReport,
    erp: CustomerDirectory,
    gateway: CustomerProfiles,
) -> None:
    if customer.auto_pay:
        report.auto_pay_disabled.append(customer.account)
        if not cmd.dry_run:
            await erp.disable_auto_pay(customer.account)
    if profile is not None and not cmd.dry_run:
        report.recurrences_stopped += await gateway.stop_recurring(profile.customer_id)


async def _unpaired_profile(
    cmd: SyncCustomers,
    profile: GatewayProfile,
    in_scope: set[str],
    report: SyncReport,
    erp: CustomerDirectory,
    gateway: CustomerProfiles,
    templates: SyncTemplates,
) -> None:
    """A profile no customer in scope claimed: its customer was deleted, is out of scope, or
    it has none yet."""
    named = str(profile.fields.get(cmd.link_field) or "")
    if named:
        if named in in_scope or await erp.customer(named) is not None:
            report.unlinked.append(profile.customer_id)
            return
        report.deleted_in_erp.append(profile.customer_id)
        if not cmd.dry_run:
            report.recurrences_stopped += await gateway.stop_recurring(profile.customer_id)
        return
    if not cmd.create_erp_customers or await erp.customer(profile.customer_id) is not None:
        report.unlinked.append(profile.customer_id)
        return
    if not profile.customer.name.strip():
        raise MappingError(
            f"profile {profile.customer_id} has no billing name; a D365 customer needs one"
        )
    record = templates.new_erp_customer.map(source_document(customer=profile.customer))
    account = "(new)"
    if not cmd.dry_run:
        account = await erp.create_customer(record, profile.customer_id)
        await gateway.update_profile(profile, {cmd.link_field: account})
    report.created_in_erp.append(account)
    report.ids_written += 1
    report.changes.append(Change(account, "erp", dict(record)))
    report.changes.append(Change(profile.customer_id, "gateway", {cmd.link_field: account}))


def flatten(payload: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same(left: Any, right: Any) -> bool:
    """Equal as the two systems store them (no value and empty text are the same)."""
    if is_empty(left) or is_empty(right):
        return is_empty(left) and is_empty(right)
    return str(left).strip() == str(right).strip()


@dataclass(frozen=True)
class CustomerSyncParts:
    """The ports and templates a customer sync works with."""

    erp: CustomerDirectory
    gateway: CustomerProfiles
    templates: SyncTemplates


async def run_customer_sync(cmd: SyncCustomers, parts: CustomerSyncParts) -> SyncReport:
    """One customer sync between the ERP's company and the gateway's account."""
    return await sync_customers(
        cmd, erp=parts.erp, gateway=parts.gateway, templates=parts.templates
    )
