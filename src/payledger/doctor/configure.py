"""Go-live checks (``payledger doctor``) and the template check that guards start-up.

Each check returns :class:`CheckResult`s and never raises: a failure becomes a result with a
hint for fixing it. Nothing is created in PayTrace or D365. Where an environment offers no way
to read a setting without writing (journal names, bank and main accounts when F&O does not
expose their entities), the check looks for the value in use instead, and otherwise says that
it cannot be verified rather than guessing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from sqlalchemy.engine import make_url

from payledger.adapters.d365 import D365Client, ODataQuery, ServiceMetadata, field
from payledger.adapters.db.migrate import current_revision, head_revision
from payledger.adapters.vault import SecretNotFound
from payledger.adapters.vault.keys import MASTER_KEY_ENV
from payledger.config import Settings
from payledger.domain.errors import AuthError, ConfigError, ConnectorError
from payledger.mapping import (
    EntitySchema,
    FieldType,
    Issue,
    PropertySchema,
    StaticCatalog,
    Template,
    TemplateError,
    load_template_file,
    paytrace_entities,
    title_issues,
    validate_templates,
)
from payledger.templates import load_templates

if TYPE_CHECKING:
    from payledger.bootstrap import Container

ACCESS, CONFIGURE, VALIDATE = "access", "configure and map", "validate"
T = TypeVar("T")

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CheckResult:
    """One line of ``payledger doctor``: what was checked, the outcome, how to fix it."""

    name: str
    ok: bool
    detail: str = ""
    hint: str = ""
    skipped: bool = False
    """Not enabled, or not verifiable in this environment; never counts as a failure."""
    phase: str = ""

    @property
    def status(self) -> str:
        return "skip" if self.skipped else "ok" if self.ok else "FAIL"


def _ok(phase: str, name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail, phase=phase)


def _fail(phase: str, name: str, detail: str, hint: str) -> CheckResult:
    return CheckResult(name, False, detail, hint, phase=phase)


def _skip(phase: str, name: str, detail: str, hint: str = "") -> CheckResult:
    return CheckResult(name, True, detail, hint, skipped=True, phase=phase)


async def _attempt(action: Callable[[], Awaitable[T]]) -> T | Exception:
    # The doctor reports every failure, whatever its type, instead of stopping at the first.
    try:
        return await action()
    except Exception as exc:
        return exc


# ---- templates ------------------------------------------------------------------------------


class _AnyProperties(Mapping[str, PropertySchema]):
    """Every name is a property of unknown type: a D365 entity whose $metadata is not read."""

    _ANY = PropertySchema(FieldType.ANY)

    def __getitem__(self, name: str) -> PropertySchema:
        return self._ANY

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class _OfflineCatalog:
    """PayTrace targets as configured; any D365 entity and field is taken on trust."""

    paytrace: StaticCatalog

    def entity(self, system: str, name: str) -> EntitySchema | None:
        if system == "d365":
            return EntitySchema(name, _AnyProperties(), "d365")
        return self.paytrace.entity(system, name)


def _templates_in_force(settings: Settings) -> tuple[list[Template], list[Issue]]:
    try:
        return list(load_templates(settings).values()), []
    except TemplateError as first:
        folder = settings.mapping.templates_dir
        issues = []
        for path in sorted(folder.glob("*.y*ml")) if folder else []:
            try:
                load_template_file(path)
            except TemplateError as exc:
                issues.append(exc.issue)
        return [], issues or [first.issue]
    except ConfigError as exc:
        return [], [Issue("[mapping]", "templates_dir", str(exc))]


async def template_issues(container: Container, *, offline: bool | None = None) -> list[Issue]:
    """Every problem of the templates in force (empty when they may run).

    Templates are validated against the live D365 ``$metadata`` and the configured PayTrace
    discretionary titles. ``offline`` (default: when ``[d365]`` is not enabled) skips D365:
    structure, source paths, transforms, settings and the PayTrace targets are still checked.

    Raises:
        ConnectorError: D365 could not be read (online only).
    """
    settings = container.settings
    templates, issues = _templates_in_force(settings)
    titles = settings.paytrace.discretionary_titles
    for problem in title_issues("[paytrace]", titles):
        issues.append(Issue("[paytrace]", "discretionary_titles", problem.reason))
    if not templates:
        return issues
    if offline is None:
        offline = not settings.d365.enabled
    catalog = (
        _OfflineCatalog(StaticCatalog.of(paytrace_entities(titles)))
        if offline
        else await container.schema_catalog()
    )
    return issues + validate_templates(templates, catalog, container.template_settings())


async def require_valid_templates(container: Container) -> None:
    """Stop start-up when a template is broken: better no service than wrong postings.

    When D365 cannot be reached the templates are checked offline (start-up does not wait
    for an outage to end); the online check runs again with ``payledger mapping check``.

    Raises:
        ConfigError: naming every template, field and reason found.
    """
    try:
        issues = await template_issues(container)
    except ConnectorError as exc:
        log.warning("mapping.check_offline", reason=str(exc))
        issues = await template_issues(container, offline=True)
    if issues:
        listed = "; ".join(f"{i.template}.{i.field}: {i.reason}" for i in issues)
        raise ConfigError(f"{len(issues)} mapping problem(s) stop start-up: {listed}")


async def mapping_check(container: Container, *, offline: bool) -> CheckResult:
    name = "mapping templates"
    issues = await _attempt(lambda: template_issues(container, offline=offline))
    if isinstance(issues, Exception):
        return _fail(VALIDATE, name, str(issues), "run `payledger mapping check --offline`")
    if issues:
        return _fail(
            VALIDATE,
            name,
            f"{len(issues)} issue(s), first: {issues[0]}",
            "run `payledger mapping check` for the list; fix the template in "
            "[mapping] templates_dir or the setting it reads",
        )
    against = "the PayTrace setup" + (
        " (offline: D365 entities not checked)" if offline else " and D365 $metadata"
    )
    return _ok(VALIDATE, name, f"{len(container.templates())} templates valid against {against}")


# ---- access ---------------------------------------------------------------------------------


async def database_checks(container: Container) -> list[CheckResult]:
    database = container.database
    url = make_url(container.settings.database.url).render_as_string(hide_password=True)
    pinged = await _attempt(database.ping)
    if isinstance(pinged, Exception):
        hint = "check [database] url, and that the server is up and accepts this user"
        return [_fail(ACCESS, "database", f"{url}: {pinged}", hint)]
    current, head = await current_revision(database), head_revision()
    if current != head:
        hint = "run `payledger migrate`" + (
            " (serve, worker and demo also migrate the embedded database)"
            if database.is_sqlite
            else ""
        )
        return [
            _fail(ACCESS, "database", f"{url}: schema at {current or 'none'}, latest {head}", hint)
        ]
    return [_ok(ACCESS, "database", f"{url}: reachable, schema at {head} (latest)")]


def _needed_secrets(settings: Settings) -> list[str]:
    wanted = (
        (settings.paytrace.password_secret, settings.paytrace.enabled),
        (settings.d365.client_secret_secret, settings.d365.enabled),
    )
    return [name for name, enabled in wanted if enabled]


async def vault_checks(container: Container) -> list[CheckResult]:
    keys, needed = container.vault.keys, _needed_secrets(container.settings)
    try:
        present = keys.keys()
    except ConfigError as exc:
        return [_fail(ACCESS, "vault master key", str(exc), "restore the key the secrets used")]
    if present is None:
        if not needed:
            return [_ok(ACCESS, "vault", "no connector enabled, so no secret is needed yet")]
        detail = f"none: {MASTER_KEY_ENV} is unset and {keys.key_file} does not exist"
        hint = "`payledger secrets set NAME` creates the key file (restore it if secrets exist)"
        return [_fail(ACCESS, "vault master key", detail, hint)]
    if keys.from_environment:
        results = [_ok(ACCESS, "vault master key", f"from {MASTER_KEY_ENV}")]
    elif keys.key_file.stat().st_mode & 0o077:
        mode = oct(keys.key_file.stat().st_mode & 0o777)
        detail = f"{keys.key_file} can be read by other users (mode {mode})"
        results = [_fail(ACCESS, "vault master key", detail, f"chmod 600 {keys.key_file}")]
    else:
        results = [_ok(ACCESS, "vault master key", f"key file {keys.key_file}")]
    for name in needed:
        got = await _attempt(partial(container.vault.get, name))
        if isinstance(got, SecretNotFound):
            hint = f"echo -n VALUE | payledger secrets set {name}"
            results.append(_fail(ACCESS, f"secret {name}", "not in the vault", hint))
        elif isinstance(got, Exception):
            hint = "restore the master key it was stored under, or set the secret again"
            results.append(_fail(ACCESS, f"secret {name}", str(got), hint))
        else:
            results.append(_ok(ACCESS, f"secret {name}", "stored and decrypts"))
    return results


async def _probe(
    name: str, action: Callable[[], Awaitable[object]], done: str, where: str, auth_hint: str
) -> CheckResult:
    """Run one access call; a failure gets the hint its kind of error calls for."""
    outcome = await _attempt(action)
    if not isinstance(outcome, Exception):
        return _ok(ACCESS, name, done)
    if isinstance(outcome, AuthError):
        hint = auth_hint
    elif isinstance(outcome, ConfigError):
        hint = "fix the vault first (see above)"
    elif "CERTIFICATE" in str(outcome).upper():
        hint = f"TLS: trust the server's certificate ([d365] ca_file) or fix {where}"
    else:
        hint = f"is {where} right and reachable from here?"
    return _fail(ACCESS, name, str(outcome), hint)


async def paytrace_checks(container: Container) -> list[CheckResult]:
    pt = container.settings.paytrace
    if not pt.enabled:
        hint = "set [paytrace] enabled = true (with base_url, username, integrator_id)"
        return [_skip(ACCESS, "PayTrace", "[paytrace] enabled = false", hint)]
    client = await _attempt(container.paytrace_client)
    if isinstance(client, Exception):
        return [_fail(ACCESS, "PayTrace", str(client), "fix the vault first (see above)")]
    where = f"[paytrace] base_url {pt.base_url}"
    login_hint = (
        f"check [paytrace] username and the password in vault secret {pt.password_secret} "
        f"(payledger secrets set {pt.password_secret}); the user needs API access"
    )
    results = [
        await _probe("PayTrace ping", client.ping, f"{pt.base_url} answers", where, ""),
        await _probe(
            "PayTrace login",
            client.tokens.get,
            f"API user {pt.username} gets a token",
            where,
            login_hint,
        ),
    ]
    if not pt.integrator_id:
        hint = "set [paytrace] integrator_id (PayTrace issues it with API access)"
        results.append(_fail(ACCESS, "PayTrace integrator id", "not set", hint))
    return results


@dataclass
class D365Access:
    """The D365 access checks, and the client and metadata when they passed."""

    results: list[CheckResult]
    client: D365Client | None = None
    metadata: ServiceMetadata | None = None


async def d365_access(container: Container) -> D365Access:
    d = container.settings.d365
    if not d.enabled:
        hint = "set [d365] enabled = true (with base_url, tenant, client_id, company)"
        return D365Access([_skip(ACCESS, "D365", "[d365] enabled = false", hint)])
    client = await _attempt(container.d365_client)
    if isinstance(client, Exception):
        return D365Access([_fail(ACCESS, "D365 token", str(client), "fix the vault first")])
    identity = f"[d365] authority_host {d.authority_host}" if d.auth == "entra" else d.adfs_url
    token_hint = (
        f"check [d365] tenant, client_id, authority_host/adfs_url and the client secret in "
        f"vault secret {d.client_secret_secret} (payledger secrets set {d.client_secret_secret})"
    )
    token = await _probe(
        "D365 token",
        client.credential.token,
        f"{d.auth} token for {d.client_id}",
        identity,
        token_hint,
    )
    if not token.ok:
        return D365Access([token])
    register_hint = (
        f"F&O refused the token: register {d.client_id} in F&O (System administration > Setup "
        "> Microsoft Entra ID applications); base_url/resource must be the environment URL"
    )
    read = await _probe(
        "D365 $metadata",
        client.metadata,
        f"{d.base_url}/data/$metadata read",
        f"[d365] base_url {d.base_url}",
        register_hint,
    )
    if not read.ok:
        return D365Access([token, read])
    return D365Access([token, read], client, await client.metadata())


# ---- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a setting can be read: an entity set and the property (first one present)."""

    entity_set: str
    properties: tuple[str, ...]
    company_scoped: bool = True


async def _exists(
    client: D365Client, metadata: ServiceMetadata, source: _Source, value: str, company: str
) -> bool | None:
    """Whether a row has ``value``; None when this environment does not expose the source."""
    info = metadata.entity_sets.get(source.entity_set)
    prop = next((p for p in source.properties if info and p in info.properties), None)
    if info is None or prop is None:
        return None
    condition = field(prop).eq(value)
    if source.company_scoped and prop != "dataAreaId" and "dataAreaId" in info.properties:
        condition = field("dataAreaId").eq(company) & condition
    query = ODataQuery(source.entity_set).where(condition).select(prop)
    return await client.first(query) is not None


@dataclass(frozen=True)
class _Setting:
    """A configured value to find in D365: where it is defined, where it would be in use."""

    name: str
    key: str
    """The ``[d365]`` key that holds it."""
    value: str
    authority: _Source
    usage: tuple[_Source, ...]
    missing_hint: str
    unverified_hint: str = ""
    """Empty: finding the value nowhere is a failure (e.g. a company with no setup at all)."""
    used_as: str = ""
    """The value as rows that use it hold it, when that differs (a ledger display value)."""


async def _verify(
    client: D365Client, metadata: ServiceMetadata, company: str, item: _Setting
) -> CheckResult:
    if not item.value:
        return _skip(CONFIGURE, item.name, f"[d365] {item.key} is empty", f"set [d365] {item.key}")
    authority = item.authority.entity_set
    found = await _exists(client, metadata, item.authority, item.value, company)
    if found is not None:
        if found:
            return _ok(CONFIGURE, item.name, f"{item.value!r} exists ({authority})")
        detail = f"{item.value!r} not found in {authority} ({company})"
        return _fail(CONFIGURE, item.name, detail, item.missing_hint)
    for source in item.usage:
        if await _exists(client, metadata, source, item.used_as or item.value, company):
            used = f"{source.entity_set}.{source.properties[0]}"
            detail = f"{item.value!r} found in {used} (no {authority} entity here to read it from)"
            return _ok(CONFIGURE, item.name, detail)
    rows = " or ".join(f"{u.entity_set}.{u.properties[0]}" for u in item.usage)
    where = f"no {authority} entity here" + (f", and no {rows} has it" if rows else "")
    if not item.unverified_hint:
        detail = f"{item.value!r} not found: {where}"
        return _fail(CONFIGURE, item.name, detail, item.missing_hint)
    detail = f"{item.value!r} unverified: {where} yet (doctor creates nothing to test it)"
    return _skip(CONFIGURE, item.name, detail, item.unverified_hint)


def _main_account(display_value: str) -> str:
    """``618160-001--`` → ``618160``: the main account segment of a ledger display value."""
    return display_value.replace("\\-", "\0").split("-", 1)[0].replace("\0", "-")


def _account(settings: Settings, key: str, kind: str, value: str) -> _Setting:
    sets = settings.d365.entity_sets
    usage = (
        _Source("CustomerPaymentMethods", ("PaymentAccountDisplayValue",)),
        _Source(sets.payment_journal_lines, ("OffsetAccountDisplayValue",)),
        _Source(sets.ledger_journal_lines, ("OffsetAccountDisplayValue",)),
    )
    bank = kind == "Bank"
    where = "Cash and bank management > Bank accounts" if bank else "the chart of accounts"
    authority = (
        _Source("BankAccounts", ("BankAccountId",))
        if bank
        else _Source("MainAccounts", ("MainAccountId",), company_scoped=False)
    )
    return _Setting(
        f"{key.replace('_', ' ')} ({kind})",
        key,
        value if bank else _main_account(value),
        authority,
        usage,
        f"create it in F&O ({where}) or correct [d365] {key}",
        f"F&O checks it on the first journal line; confirm it under {where}",
        value,
    )


def _settings_to_verify(settings: Settings) -> list[_Setting]:
    d, sets = settings.d365, settings.d365.entity_sets
    journal = _Source("JournalNames", ("Name", "JournalName"))
    create = "create it under General ledger > Journal setup > Journal names, or correct [d365] "
    checked = "F&O checks it on the first journal header; confirm it in Journal names"
    by_company = ("dataAreaId",)
    return [
        _Setting(
            "company",
            "company",
            d.company,
            _Source("LegalEntities", ("LegalEntityId",), company_scoped=False),
            (_Source("CustomerPaymentMethods", by_company), _Source(sets.customers, by_company)),
            "set [d365] company to the legal entity's dataAreaId (e.g. usmf)",
        ),
        _Setting(
            "payment journal name",
            "payment_journal_name",
            d.payment_journal_name,
            journal,
            (
                _Source("CustomerPaymentMethods", ("PaymentJournalName",)),
                _Source(sets.payment_journal_headers, ("JournalName",)),
            ),
            create + "payment_journal_name (type Customer payment)",
            checked,
        ),
        _Setting(
            "general journal name",
            "general_journal_name",
            d.general_journal_name,
            journal,
            (_Source(sets.ledger_journal_headers, ("JournalName",)),),
            create + "general_journal_name (type Daily)",
            checked,
        ),
        _Setting(
            "method of payment",
            "payment_method",
            d.payment_method,
            _Source("CustomerPaymentMethods", ("Name",)),
            (),
            "create it under Accounts receivable > Payment setup > Methods of payment, or "
            "correct [d365] payment_method",
        ),
        *(
            [
                _Setting(
                    "ACH method of payment",
                    "ach_payment_method",
                    d.ach_payment_method,
                    _Source("CustomerPaymentMethods", ("Name",)),
                    (),
                    "create it under Accounts receivable > Payment setup > Methods of payment, "
                    "or correct [d365] ach_payment_method (empty: payment_method)",
                )
            ]
            if d.ach_payment_method
            else []
        ),
        _account(settings, "clearing_account", d.clearing_account_type, d.clearing_account),
        _account(settings, "deposit_account", d.deposit_account_type, d.deposit_account),
        _account(settings, "fee_account", "Ledger", d.fee_account),
        _Setting(
            "customer group",
            "customer_group",
            d.customer_group,
            _Source("CustomerGroups", ("CustomerGroupId",)),
            (_Source(sets.customers, ("CustomerGroupId",)),),
            "create it under Accounts receivable > Setup > Customer groups, or correct "
            "[d365] customer_group",
            "F&O checks it when payledger creates the first customer",
        ),
    ]


def entity_set_check(metadata: ServiceMetadata, settings: Settings) -> CheckResult:
    names = settings.d365.entity_sets.model_dump()
    missing = [f"{key} = {name}" for key, name in names.items() if name not in metadata.entity_sets]
    if missing:
        hint = "set [d365.entity_sets] to the names this environment exposes"
        return _fail(CONFIGURE, "entity sets", "not in $metadata: " + ", ".join(missing), hint)
    return _ok(CONFIGURE, "entity sets", f"all {len(names)} configured entity sets exist")


def extension_field_checks(metadata: ServiceMetadata, settings: Settings) -> list[CheckResult]:
    d = settings.d365
    results = []
    for key, name in d.fields.model_dump().items():
        entity_set = (
            d.entity_sets.customers if key.startswith("customer") else d.entity_sets.sales_orders
        )
        label = f"extension field {key}"
        info = metadata.entity_sets.get(entity_set)
        if not name:
            results.append(_skip(CONFIGURE, label, "not configured: payledger does not write it"))
        elif info is not None and name in info.properties:
            results.append(_ok(CONFIGURE, label, f"{entity_set}.{name} exists"))
        else:
            hint = (
                f"add {name} to the {entity_set} data entity (an F&O extension) and refresh the "
                f"entity list, or set [d365.fields] {key} to its real name (empty: not written)"
            )
            results.append(_fail(CONFIGURE, label, f"{entity_set} has no property {name}", hint))
    return results


async def d365_setup_checks(
    client: D365Client, metadata: ServiceMetadata, settings: Settings
) -> list[CheckResult]:
    results = [entity_set_check(metadata, settings)]
    for item in _settings_to_verify(settings):
        verified = await _attempt(partial(_verify, client, metadata, settings.d365.company, item))
        if isinstance(verified, Exception):
            verified = _fail(CONFIGURE, item.name, str(verified), "see the D365 checks above")
        results.append(verified)
    return results + extension_field_checks(metadata, settings)


def discretionary_check(settings: Settings) -> CheckResult:
    pt, name = settings.paytrace, "PayTrace discretionary titles"
    titles = pt.discretionary_titles
    problems = [issue.reason for issue in title_issues("[paytrace]", titles)]
    for key in ("order_title", "customer_title", "correlation_field"):
        value: Any = getattr(pt, key)
        if value and value not in titles:
            problems.append(f"{key} {value!r} is not one of discretionary_titles")
    if problems:
        hint = (
            "list the titles defined on the merchant account (Virtual Terminal, at most 6) in "
            "[paytrace] discretionary_titles; order_title and customer_title must be among them"
        )
        return _fail(CONFIGURE, name, "; ".join(problems), hint)
    return _ok(CONFIGURE, name, f"{len(titles)} of 6 as configured: {', '.join(titles)}")


async def doctor(container: Container) -> list[CheckResult]:
    """Every go-live check in phase order: access, configure and map, validate."""
    results = await database_checks(container)
    if all(result.ok for result in results):
        results += await vault_checks(container)
    else:
        results.append(_skip(ACCESS, "vault", "not checked: the database is not ready"))
    results += await paytrace_checks(container)
    d365 = await d365_access(container)
    results += d365.results
    results.append(discretionary_check(container.settings))
    if d365.client is not None and d365.metadata is not None:
        results += await d365_setup_checks(d365.client, d365.metadata, container.settings)
    elif container.settings.d365.enabled:
        results.append(_skip(CONFIGURE, "D365 setup", "not checked: no access to D365 (above)"))
    results.append(await mapping_check(container, offline=d365.metadata is None))
    return results
