"""The container: every dependency a running payledger process needs, built once.

``bootstrap.build`` fills it; its clients are built on first use. Which job kind runs what
is in ``bootstrap.jobs``.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from payledger.adapters.d365 import (
    AdfsCredential,
    D365Client,
    D365EntitySets,
    D365Ledger,
    EntraIdCredential,
)
from payledger.adapters.d365 import D365Settings as LedgerSettings
from payledger.adapters.d365.auth import ClientCertificate, D365Credential, check_certificate
from payledger.adapters.d365.catalog import entities_from_metadata
from payledger.adapters.d365.posting import D365PostingLedger
from payledger.adapters.d365.shadow import ShadowLedger
from payledger.adapters.d365.throttle import AdaptiveConcurrency
from payledger.adapters.db.database import Database
from payledger.adapters.db.migrate import migrate
from payledger.adapters.paytrace import PayTraceClient, PayTracePaths
from payledger.adapters.paytrace.gateway import PayTraceGateway
from payledger.adapters.vault import DatabaseSecretProvider, SecretNotFound, SecretProvider
from payledger.adapters.vault.cache import CachedSecrets
from payledger.alerts import AlertCenter, watch_batch_handlers, watch_handlers
from payledger.bootstrap.rotating_credential import RotatingCredential
from payledger.bootstrap.templates_in_force import (
    TemplatesInForce,
    refreshing,
    refreshing_batches,
)
from payledger.config import Settings
from payledger.domain.clock import Clock
from payledger.domain.errors import ConfigError
from payledger.engine.idempotency import IdempotencyKeys
from payledger.engine.inbox import Inbox
from payledger.engine.jobs import BatchHandler, Handler
from payledger.engine.metrics import EngineMetrics
from payledger.engine.queue import Queue
from payledger.engine.schedule import Schedule, Scheduler
from payledger.engine.worker import Worker, WorkerOptions, worker_name
from payledger.flows.post_payment import PostingTemplates
from payledger.mapping import (
    CompiledTemplate,
    SchemaCatalog,
    StaticCatalog,
    Template,
    paytrace_entities,
)
from payledger.stores.template_versions import SqlTemplateVersions
from payledger.stores.template_versions_model import version_label
from payledger.templates import load_templates, offline_catalog, seed_sources, template_settings

POSTING_TEMPLATES = ("d365_payment_journal_line", "d365_order_payment_status")
"""The templates a payment's postings are mapped with (journal line, order update)."""


@dataclass
class Container:
    """Everything a running payledger process needs, built once."""

    settings: Settings
    clock: Clock
    database: Database
    queue: Queue
    inbox: Inbox
    idempotency: IdempotencyKeys
    vault: SecretProvider
    """The ``[vault] provider``; external stores come wrapped in :class:`CachedSecrets`."""
    metrics: EngineMetrics
    alerts: AlertCenter
    """Operator alerts: ``await container.alerts.notify(key, title, text, facts=...)``."""
    handlers: dict[str, Handler] = field(default_factory=dict)
    """The handler of every enabled job kind, as ``bootstrap.jobs.JOB_KINDS`` lists them."""
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    """Kinds whose jobs a worker hands over a claim round at a time (see ``BatchHandler``)."""
    priority_kinds: list[str] = field(default_factory=list)
    """Kinds a worker claims ahead of older jobs of other kinds."""
    schedules: list[Schedule] = field(default_factory=list)
    """The schedules of the enabled job kinds."""
    _paytrace: PayTraceClient | None = None
    _paytrace_password: bytes = b""
    """A digest of the password ``_paytrace`` was built with (to notice a rotation)."""
    _retired: list[PayTraceClient] = field(default_factory=list)
    _d365: D365Client | None = None
    _posting_ledger: D365PostingLedger | ShadowLedger | None = None
    _posting_templates: PostingTemplates | None = None
    _templates_in_force: TemplatesInForce | None = None

    def database_vault(self) -> DatabaseSecretProvider:
        """The database provider, for what only it has (the master key)."""
        if not isinstance(self.vault, DatabaseSecretProvider):
            raise ConfigError(
                f"[vault] provider is {self.settings.vault.provider}: the master key belongs to "
                "the database provider; rotate secrets in the external store itself"
            )
        return self.vault

    async def paytrace_client(self) -> PayTraceClient:
        """The PayTrace connector, with its password fetched from the vault.

        With an external store (values cached for ``[vault] cache_seconds``) the password is
        looked at again on each call, and a rotated one gets a new client without a restart.
        """
        rotating = isinstance(self.vault, CachedSecrets)
        if self._paytrace is not None and not rotating:
            return self._paytrace
        pt = self.settings.paytrace
        password = (await self.vault.get(pt.password_secret)).get_secret_value()
        digest = hashlib.sha256(password.encode()).digest()
        if self._paytrace is not None and digest == self._paytrace_password:
            return self._paytrace
        if self._paytrace is not None:
            self._retired.append(self._paytrace)  # closed at exit: requests may be in flight
        self._paytrace_password = digest
        self._paytrace = PayTraceClient(
            pt.base_url,
            pt.username,
            password,
            pt.integrator_id,
            timeout=pt.timeout_seconds,
            vendor_timezone=pt.timezone,
            currency=pt.currency,
            correlation_field=pt.correlation_field or None,
            paths=PayTracePaths(
                check_export=pt.check_export_path,
                recurring_through=pt.recurring_through,
            ),
            clock=self.clock,
        )
        return self._paytrace

    async def payment_lookup(self) -> PayTraceGateway:
        """PayTrace as a ``PaymentLookup``: a payment's current state by transaction id."""
        return PayTraceGateway(await self.paytrace_client())

    async def secrets_named(self, names: Sequence[str]) -> dict[str, str]:
        """The values of the vault secrets among ``names`` that exist, by name."""
        found = {}
        for name in names:
            try:
                found[name] = (await self.vault.get(name)).get_secret_value()
            except SecretNotFound:
                continue
        return found

    async def daily_payments(self) -> PayTraceGateway:
        """PayTrace as a ``DailyPaymentSource``: one day's exports at a time (backfill)."""
        return PayTraceGateway(await self.paytrace_client())

    async def d365_certificate(self) -> ClientCertificate:
        """The ``entra_certificate`` certificate and key from the vault, checked before use."""
        d = self.settings.d365
        certificate = ClientCertificate(
            private_key_pem=(await self.vault.get(d.private_key_secret)).get_secret_value(),
            certificate_pem=(await self.vault.get(d.certificate_secret)).get_secret_value(),
        )
        check_certificate(certificate, self.clock.now())
        return certificate

    def _d365_secret_names(self) -> tuple[str, ...]:
        """The vault secrets the ``[d365] auth`` credential is made from."""
        d = self.settings.d365
        if d.auth == "entra_certificate":
            return (d.private_key_secret, d.certificate_secret)
        return (d.client_secret_secret,)

    async def _d365_credential(
        self, verify: Any, limiter: AdaptiveConcurrency | None = None
    ) -> D365Credential:
        """The ``[d365] auth`` credential, with its secret or certificate from the vault.

        With an external store, the credential follows the store: a rotated secret or
        certificate is used from the next token on, without a restart.
        """
        if isinstance(self.vault, CachedSecrets) and limiter is None:
            return RotatingCredential(
                self.vault,
                self._d365_secret_names(),
                lambda shared: self._d365_credential(verify, shared),
            )
        d = self.settings.d365
        resource = d.resource or d.base_url
        if d.auth == "entra_certificate":
            return EntraIdCredential(
                tenant=d.tenant,
                client_id=d.client_id,
                resource=resource,
                certificate=await self.d365_certificate(),
                authority_host=d.authority_host,
                verify=verify,
                limiter=limiter,
            )
        secret = (await self.vault.get(d.client_secret_secret)).get_secret_value()
        if d.auth == "adfs":
            return AdfsCredential(
                adfs_url=d.adfs_url,
                client_id=d.client_id,
                client_secret=secret,
                resource=resource,
                verify=verify,
                limiter=limiter,
            )
        return EntraIdCredential(
            tenant=d.tenant,
            client_id=d.client_id,
            resource=resource,
            client_secret=secret,
            authority_host=d.authority_host,
            verify=verify,
            limiter=limiter,
        )

    async def d365_client(self) -> D365Client:
        """The D365 connector, authenticated with the secret or certificate from the vault."""
        if self._d365 is None:
            d = self.settings.d365
            verify: Any = ssl.create_default_context(cafile=str(d.ca_file)) if d.ca_file else True
            credential = await self._d365_credential(verify)
            if self._d365 is not None:  # a concurrent first caller built it meanwhile
                await credential.aclose()
                return self._d365
            self._d365 = D365Client(
                d.base_url,
                credential,
                verify=verify,
                timeout=d.timeout_seconds,
                read_only=self.shadow_mode,
            )
        return self._d365

    async def d365_ledger(self) -> D365Ledger:
        d = self.settings.d365
        ledger_settings = LedgerSettings(
            company=d.company,
            entity_sets=D365EntitySets(**d.entity_sets.model_dump()),
            payment_journal_name=d.payment_journal_name,
            general_journal_name=d.general_journal_name,
            customer_gateway_id_field=d.fields.customer_paytrace_id or None,
            order_payment_status_field=d.fields.order_payment_status or None,
        )
        return D365Ledger(await self.d365_client(), ledger_settings)

    @property
    def shadow_mode(self) -> bool:
        """``[posting] mode = "shadow"``: D365 is read, never written."""
        return self.settings.posting.mode == "shadow"

    async def posting_ledger(self) -> D365PostingLedger | ShadowLedger:
        """The posting flows' ledger: D365, or in shadow mode D365 read-only behind a shadow."""
        if self._posting_ledger is None:
            live = D365PostingLedger(
                await self.d365_ledger(), lookup_ttl=self.settings.posting.lookup_ttl_seconds
            )
            self._posting_ledger = ShadowLedger(live) if self.shadow_mode else live
        return self._posting_ledger

    def posting_templates(self) -> PostingTemplates:
        """The posting flow's templates as in force now (rebuilt when a version changes)."""
        live = self.templates_in_force
        versions = live.versions(POSTING_TEMPLATES)
        cached = self._posting_templates
        if cached is None or cached.versions != versions:
            cached = self._posting_templates = PostingTemplates(
                journal_line=live.compiled(POSTING_TEMPLATES[0]),
                order_status=live.compiled(POSTING_TEMPLATES[1]),
                versions=versions,
            )
        return cached

    async def pinned_posting_templates(self, pins: Mapping[str, int]) -> PostingTemplates:
        """The posting flow's templates with those in ``pins`` at the version given there."""
        live = self.templates_in_force
        versions = live.versions(POSTING_TEMPLATES) | {
            name: version_label(name, version) for name, version in pins.items()
        }

        async def chosen(name: str) -> CompiledTemplate:
            return await live.pinned(name, pins[name]) if name in pins else live.compiled(name)

        return PostingTemplates(
            journal_line=await chosen(POSTING_TEMPLATES[0]),
            order_status=await chosen(POSTING_TEMPLATES[1]),
            versions=versions,
        )

    async def schema_catalog(self) -> StaticCatalog:
        """What templates may write: the live D365 ``$metadata`` plus the PayTrace targets."""
        metadata = await (await self.d365_client()).metadata()
        d365_entities = entities_from_metadata(metadata, self.settings.d365.string_lengths)
        return StaticCatalog.of(
            d365_entities, paytrace_entities(self.settings.paytrace.discretionary_titles)
        )

    async def template_catalog(self) -> SchemaCatalog:
        """What a template version is validated against before it is activated: the live
        D365 ``$metadata`` when ``[d365]`` is enabled, else the PayTrace targets (D365 on
        trust)."""
        if self.settings.d365.enabled:
            return await self.schema_catalog()
        return offline_catalog(self.settings)

    def template_versions(self) -> SqlTemplateVersions:
        """The saved versions of every template and which one is active."""
        return self.templates_in_force.store

    @property
    def templates_in_force(self) -> TemplatesInForce:
        if self._templates_in_force is None:
            settings = self.settings
            store = SqlTemplateVersions(self.database, self.clock, lambda: seed_sources(settings))
            self._templates_in_force = TemplatesInForce(
                lambda: load_templates(settings),
                store,
                self.template_settings(),
                check_seconds=settings.mapping.versions_check_seconds,
            )
        return self._templates_in_force

    def templates(self) -> dict[str, Template]:
        """The templates in force in this process (see :meth:`refresh_templates`)."""
        return self.templates_in_force.templates()

    async def refresh_templates(self, *, force: bool = False) -> bool:
        """Pick up template activations made in any process (a cached generation check)."""
        return await self.templates_in_force.refresh(force=force)

    def template_settings(self) -> dict[str, Any]:
        return template_settings(self.settings)

    def worker(
        self,
        *,
        concurrency: int | None = None,
        name: str | None = None,
        kinds: Sequence[str] = (),
    ) -> Worker:
        """A worker for every registered kind of job, or for ``kinds`` only."""
        w = self.settings.worker
        options = WorkerOptions(
            concurrency=concurrency or w.concurrency,
            claim_batch=w.claim_batch,
            lease_seconds=w.lease_seconds,
            poll_interval=w.poll_interval_seconds,
            shutdown_grace=w.shutdown_grace_seconds,
            priority_kinds=tuple(self.priority_kinds),
            kinds=tuple(kinds),
        )
        live = self.templates_in_force
        handlers = refreshing(watch_handlers(self.handlers, self.alerts), live)
        batch_handlers = watch_batch_handlers(self.batch_handlers, self.alerts)
        return Worker(
            self.queue,
            handlers,
            options=options,
            metrics=self.metrics,
            name=name,
            batch_handlers=refreshing_batches(batch_handlers, live),
        )

    def scheduler(self, name: str | None = None) -> Scheduler:
        return Scheduler(self.queue, self.schedules, name=name or worker_name())

    async def prepare(self) -> None:
        """Migrate the embedded SQLite database (PostgreSQL is migrated by ``payledger
        migrate``) and read which template versions are active."""
        if self.database.is_sqlite:
            await migrate(self.database)
        await self.refresh_templates(force=True)

    async def aclose(self) -> None:
        for paytrace in [*self._retired, *([self._paytrace] if self._paytrace else [])]:
            await paytrace.aclose()
        if isinstance(self.vault, CachedSecrets):
            await self.vault.aclose()
        if self._d365 is not None:
            await self._d365.aclose()
            await self._d365.credential.aclose()
        await self.database.dispose()
