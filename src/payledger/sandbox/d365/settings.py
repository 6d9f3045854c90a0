"""Settings of the D365 F&O sandbox; every default is documented in docs/sandbox-d365.md."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from payledger.sandbox.faults import FaultSettings

DEFAULT_TENANT = "payledger-sandbox"
DEFAULT_CLIENT_ID = "payledger-client"
DEFAULT_CLIENT_SECRET = "payledger-secret"


def default_extension_fields() -> dict[str, dict[str, str]]:
    """The custom fields a typical payledger deployment adds to F&O entities (``ProjectCode``
    stands for a field of the business's own, which templates may carry to PayTrace)."""
    return {
        "CustomersV3": {
            "PayTraceCustomerId": "str",
            "PayTraceAutoPay": "enum NoYes",
            "PayTraceSync": "enum NoYes",
            "PayTraceSubscriptionStatus": "str",
            "PayTraceCollectionStatus": "str",
            "ProjectCode": "str",
        },
        "SalesOrderHeadersV2": {
            "PaymentStatus": "str",
            "PaymentAuthId": "str",
            "PaymentAmount": "dec",
            "PaymentMessage": "str",
            "ProjectCode": "str",
        },
    }


@dataclass
class SandboxClient:
    """An Entra ID (or AD FS) application allowed to call the sandbox.

    Attributes:
        client_id: the application (client) id.
        client_secret: accepted secret, if the app authenticates with one.
        certificate_pem: public certificate (PEM) for client-assertion authentication.
        default_company: the F&O user's default company (``dataAreaId``) for this app.
        registered_in_fo: False models an app missing from "Microsoft Entra ID
            applications" in F&O: it gets tokens, but every OData call answers 401.
    """

    client_id: str
    client_secret: str | None = None
    certificate_pem: str | None = None
    default_company: str = "usmf"
    registered_in_fo: bool = True


@dataclass
class D365SandboxSettings:
    """Everything the sandbox can be told at start; most fields can be changed at run time."""

    base_url: str | None = None
    """The environment URL, token audience and resource. None: taken from each request."""
    tenant: str = DEFAULT_TENANT
    tenant_id: str = field(
        default_factory=lambda: str(uuid.uuid5(uuid.NAMESPACE_URL, DEFAULT_TENANT))
    )
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    client_certificate_pem: str | None = None
    """Public certificate that the default client may also authenticate with."""
    extra_clients: list[SandboxClient] = field(default_factory=list)
    other_resources: tuple[str, ...] = ("https://vault.azure.net",)
    """Resources besides F&O the tenant issues tokens for (the Key Vault sandbox checks them)."""
    token_lifetime_s: int = 3599
    default_company: str = "usmf"
    companies: tuple[str, ...] = ("usmf", "usrt", "demf")
    seed_demo_data: bool = True
    page_size: int = 10_000
    honor_maxpagesize: bool = True
    """Honour ``Prefer: odata.maxpagesize`` (UNCERTAIN for real F&O)."""
    write_error_status: int = 500
    """Status of AxODataWriteException outside $batch: 500 (default) or 400."""
    enforce_if_match: bool = True
    precondition_failed_status: int = 412
    manual_number_fields: set[str] = field(default_factory=lambda: {"CustomerAccount"})
    """Number-sequence fields clients may supply themselves (e.g. add "JournalBatchNumber")."""
    filter_functions: bool = False
    """Accept contains()/startswith()/endswith()/tolower()/toupper() in $filter."""
    extension_fields: dict[str, dict[str, str]] = field(default_factory=default_extension_fields)
    posting_action: bool = False
    """Expose the bound action ``Microsoft.Dynamics.DataEntities.PostJournal`` on headers."""
    posting_action_name: str = "PostJournal"
    journal_service: tuple[str, str, str] = (
        "PayledgerServices",
        "PayledgerJournalService",
        "postJournal",
    )
    """Service group, service and operation of the custom service that posts a journal
    (``POST /api/services/<group>/<service>/<operation>``; UNCERTAIN: an extension's names)."""
    free_text_invoice_operation: str = "postFreeTextInvoice"
    """The same service's operation that posts a free-text invoice (UNCERTAIN, as above)."""
    business_events_url: str | None = None
    business_event_retries: int = 3
    business_event_retry_interval_s: float = 1.0
    events_transport: Any = None
    """An ``httpx.AsyncBaseTransport`` for event delivery (tests deliver in-process)."""
    faults: FaultSettings = field(default_factory=FaultSettings)
    fault_seed: int = 0
    signing_key_pem: str | None = None
    """RSA private key (PEM) that signs tokens; None generates one per app."""

    RUNTIME_FIELDS = (
        "page_size",
        "honor_maxpagesize",
        "write_error_status",
        "enforce_if_match",
        "precondition_failed_status",
        "filter_functions",
        "posting_action",
        "journal_service",
        "free_text_invoice_operation",
        "business_events_url",
        "business_event_retries",
        "business_event_retry_interval_s",
        "token_lifetime_s",
        "default_company",
    )

    def update(self, changes: dict[str, Any]) -> None:
        """Change run-time settings; unknown or start-only names raise ``ValueError``."""
        unknown = sorted(set(changes) - set(self.RUNTIME_FIELDS) - {"manual_number_fields"})
        if unknown:
            raise ValueError(f"not changeable at run time: {', '.join(unknown)}")
        for name, value in changes.items():
            if name == "manual_number_fields":
                value = set(value)
            elif name == "journal_service":
                value = tuple(str(part) for part in value)
                if len(value) != 3 or not all(value):
                    raise ValueError("journal_service must be [group, service, operation]")
            setattr(self, name, value)

    def runtime_view(self) -> dict[str, Any]:
        view = {name: getattr(self, name) for name in self.RUNTIME_FIELDS}
        view["manual_number_fields"] = sorted(self.manual_number_fields)
        return view

    def clients(self) -> dict[str, SandboxClient]:
        default = SandboxClient(
            self.client_id,
            self.client_secret,
            self.client_certificate_pem,
            self.default_company,
        )
        return {c.client_id: c for c in [default, *self.extra_clients]}


def realistic_faults() -> FaultSettings:
    """A latency model close to a busy F&O sandbox tier, for demos and benchmarks."""
    return FaultSettings(latency_ms=60, jitter_ms=40, per_operation_ms=12, capacity=16)
