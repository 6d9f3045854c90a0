"""The access phase: can payledger reach its database, its vault, PayTrace and D365?

Nothing is created in PayTrace or D365: a probe pings, logs in, asks for a token or reads
``$metadata``. The console's connection panel shows the same probes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from payledger.adapters.d365 import D365Client, ServiceMetadata
from payledger.adapters.d365.auth import check_certificate
from payledger.adapters.db.migrate import current_revision, head_revision
from payledger.adapters.vault import DatabaseSecretProvider, SecretNotFound
from payledger.adapters.vault.keys import MASTER_KEY_ENV
from payledger.config import D365Settings, Settings
from payledger.doctor.report import ACCESS, Finding, attempt, fail, ok, skip
from payledger.doctor.secret_store import probe_secret_store
from payledger.domain.errors import AuthError, ConfigError

if TYPE_CHECKING:
    from payledger.bootstrap import Container


async def probe_database(container: Container) -> list[Finding]:
    """Reachable, and migrated to the latest schema."""
    database = container.database
    url = make_url(container.settings.database.url).render_as_string(hide_password=True)
    pinged = await attempt(database.ping)
    if isinstance(pinged, Exception):
        hint = "check [database] url, and that the server is up and accepts this user"
        return [fail(ACCESS, "database", f"{url}: {pinged}", hint)]
    current, head = await current_revision(database), head_revision()
    if current != head:
        hint = "run `payledger migrate`" + (
            " (serve, worker and demo also migrate the embedded database)"
            if database.is_sqlite
            else ""
        )
        return [
            fail(ACCESS, "database", f"{url}: schema at {current or 'none'}, latest {head}", hint)
        ]
    return [ok(ACCESS, "database", f"{url}: reachable, schema at {head} (latest)")]


RENEW_WITHIN_DAYS = 30
"""A D365 certificate with fewer days left than this gets a hint to renew it."""


def _d365_secrets(d: D365Settings) -> list[str]:
    if d.auth == "entra_certificate":
        return [d.certificate_secret, d.private_key_secret]
    return [d.client_secret_secret]


def _needed_secrets(settings: Settings) -> list[str]:
    paytrace = [settings.paytrace.password_secret] if settings.paytrace.enabled else []
    return paytrace + (_d365_secrets(settings.d365) if settings.d365.enabled else [])


async def probe_vault(container: Container) -> list[Finding]:
    """The master key (present, not readable by others) and the secrets the connectors need;
    for an external store, its access and those secrets."""
    vault, needed = container.vault, _needed_secrets(container.settings)
    if not isinstance(vault, DatabaseSecretProvider):
        return await probe_secret_store(container, needed)
    keys = vault.keys
    try:
        present = keys.keys()
    except ConfigError as exc:
        return [fail(ACCESS, "vault master key", str(exc), "restore the key the secrets used")]
    if present is None:
        if not needed:
            return [ok(ACCESS, "vault", "no connector enabled, so no secret is needed yet")]
        detail = f"none: {MASTER_KEY_ENV} is unset and {keys.key_file} does not exist"
        hint = "`payledger secrets set NAME` creates the key file (restore it if secrets exist)"
        return [fail(ACCESS, "vault master key", detail, hint)]
    if keys.from_environment:
        findings = [ok(ACCESS, "vault master key", f"from {MASTER_KEY_ENV}")]
    elif keys.key_file.stat().st_mode & 0o077:
        mode = oct(keys.key_file.stat().st_mode & 0o777)
        detail = f"{keys.key_file} can be read by other users (mode {mode})"
        findings = [fail(ACCESS, "vault master key", detail, f"chmod 600 {keys.key_file}")]
    else:
        findings = [ok(ACCESS, "vault master key", f"key file {keys.key_file}")]
    for name in needed:
        got = await attempt(partial(container.vault.get, name))
        if isinstance(got, SecretNotFound):
            hint = f"echo -n VALUE | payledger secrets set {name}"
            findings.append(fail(ACCESS, f"secret {name}", "not in the vault", hint))
        elif isinstance(got, Exception):
            hint = "restore the master key it was stored under, or set the secret again"
            findings.append(fail(ACCESS, f"secret {name}", str(got), hint))
        else:
            findings.append(ok(ACCESS, f"secret {name}", "stored and decrypts"))
    return findings


async def _call(
    name: str, action: Callable[[], Awaitable[object]], done: str, where: str, auth_hint: str
) -> Finding:
    """Make one access call; a failure gets the hint its kind of error calls for."""
    outcome = await attempt(action)
    if not isinstance(outcome, Exception):
        return ok(ACCESS, name, done)
    if isinstance(outcome, AuthError):
        hint = auth_hint
    elif isinstance(outcome, ConfigError):
        hint = "fix the vault first (see above)"
    elif "CERTIFICATE" in str(outcome).upper():
        hint = f"TLS: trust the server's certificate ([d365] ca_file) or fix {where}"
    else:
        hint = f"is {where} right and reachable from here?"
    return fail(ACCESS, name, str(outcome), hint)


async def probe_paytrace(container: Container) -> list[Finding]:
    """Ping, log in, and an integrator id to send."""
    pt = container.settings.paytrace
    if not pt.enabled:
        hint = "set [paytrace] enabled = true (with base_url, username, integrator_id)"
        return [skip(ACCESS, "PayTrace", "[paytrace] enabled = false", hint)]
    client = await attempt(container.paytrace_client)
    if isinstance(client, Exception):
        return [fail(ACCESS, "PayTrace", str(client), "fix the vault first (see above)")]
    where = f"[paytrace] base_url {pt.base_url}"
    login_hint = (
        f"check [paytrace] username and the password in vault secret {pt.password_secret} "
        f"(payledger secrets set {pt.password_secret}); the user needs API access"
    )
    findings = [
        await _call("PayTrace ping", client.ping, f"{pt.base_url} answers", where, ""),
        await _call(
            "PayTrace login",
            client.tokens.get,
            f"API user {pt.username} gets a token",
            where,
            login_hint,
        ),
    ]
    if not pt.integrator_id:
        hint = "set [paytrace] integrator_id (PayTrace issues it with API access)"
        findings.append(fail(ACCESS, "PayTrace integrator id", "not set", hint))
    return findings


async def probe_certificate(container: Container) -> Finding:
    """The ``entra_certificate`` certificate: subject, thumbprint, expiry; fails if unusable."""
    d, name = container.settings.d365, "D365 certificate"
    replace = (
        f"store the app's certificate and its key: payledger secrets set {d.certificate_secret} "
        f"< cert.pem; payledger secrets set {d.private_key_secret} < key.pem"
    )
    certificate = await attempt(container.d365_certificate)
    if isinstance(certificate, AuthError):
        return fail(ACCESS, name, str(certificate), replace)
    if isinstance(certificate, Exception):
        return fail(ACCESS, name, str(certificate), "fix the vault first (see above)")
    now = container.clock.now()
    info = check_certificate(certificate, now)
    days = info.days_left(now)
    detail = (
        f"{info.subject}, thumbprint {info.thumbprint}, "
        f"expires {info.not_after:%Y-%m-%d} ({days} days left)"
    )
    if days >= RENEW_WITHIN_DAYS:
        return ok(ACCESS, name, detail)
    renew = f"renew it: upload a new certificate to the Entra app, then {replace}"
    return Finding(name, True, f"{detail}: renew soon", renew, phase=ACCESS)


@dataclass
class D365Access:
    """The D365 access findings, and the client and metadata when access was granted."""

    findings: list[Finding]
    client: D365Client | None = None
    metadata: ServiceMetadata | None = None


async def probe_d365(container: Container) -> D365Access:
    """The certificate if one is configured, a token from Entra ID or AD FS, then ``$metadata``."""
    d = container.settings.d365
    if not d.enabled:
        hint = "set [d365] enabled = true (with base_url, tenant, client_id, company)"
        return D365Access([skip(ACCESS, "D365", "[d365] enabled = false", hint)])
    found: list[Finding] = []
    if d.auth == "entra_certificate":
        found.append(await probe_certificate(container))
        if not found[0].ok:
            return D365Access(found)
    client = await attempt(container.d365_client)
    if isinstance(client, Exception):
        return D365Access([fail(ACCESS, "D365 token", str(client), "fix the vault first")])
    identity = d.adfs_url if d.auth == "adfs" else f"[d365] authority_host {d.authority_host}"
    if d.auth == "entra_certificate":
        token_hint = (
            f"check [d365] tenant, client_id, authority_host, and that the certificate in vault "
            f"secret {d.certificate_secret} is uploaded to app {d.client_id} in Entra ID"
        )
    else:
        token_hint = (
            f"check [d365] tenant, client_id, authority_host/adfs_url and the client secret in "
            f"vault secret {d.client_secret_secret} "
            f"(payledger secrets set {d.client_secret_secret})"
        )
    token = await _call(
        "D365 token",
        client.credential.token,
        f"{d.auth} token for {d.client_id}",
        identity,
        token_hint,
    )
    if not token.ok:
        return D365Access([*found, token])
    register_hint = (
        f"F&O refused the token: register {d.client_id} in F&O (System administration > Setup "
        "> Microsoft Entra ID applications); base_url/resource must be the environment URL"
    )
    read = await _call(
        "D365 $metadata",
        client.metadata,
        f"{d.base_url}/data/$metadata read",
        f"[d365] base_url {d.base_url}",
        register_hint,
    )
    if not read.ok:
        return D365Access([*found, token, read])
    return D365Access([*found, token, read], client, await client.metadata())
