"""Settings of the PayTrace v1 sandbox; every UNCERTAIN fact of the fact sheet is a knob here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

MAX_DISCRETIONARY_FIELDS = 6

DO_NOT_HONOR = "    DECLINE - Do not honor"
EXPIRED_CARD = "  EXPIRED CARD - Expired card"
"""Processor texts of the fact sheet's recorded declines (§4): soft and hard."""

DEFAULT_DECLINES: dict[str, str] = {
    "1.12": DO_NOT_HONOR,
    "0.29": EXPIRED_CARD,
}


@dataclass(frozen=True)
class AddressOnFile:
    """The billing address the issuer holds; AVS compares what a request sends with it."""

    street_address: str = "100 Main St."
    zip: str = "99201"


@dataclass
class PayTraceSandboxSettings:
    """Everything that shapes the sandbox; defaults follow the fact sheet.

    Facts the fact sheet marks UNCERTAIN (HTTP statuses, wording, invented error codes) are
    fields so a test, or a later look at the real sandbox, can change them without code edits.
    """

    username: str = "demo123"
    """API user accepted by ``/oauth/token``."""
    password: str = "demo123"
    integrator_id: str | None = None
    """When set only this integrator id is accepted; otherwise any non-empty one is."""
    seed: int = 0
    """Seeds ids, tokens, approval codes and fault decisions: same seed, same answers."""
    clock_start: datetime | None = None
    """Frozen start time of the sandbox clock (advanced only by the control API); ``None``
    follows the wall clock."""
    token_lifetime_s: int = 7200
    first_transaction_id: int = 125391201
    first_check_id: int = 981601
    first_batch_number: int = 413
    first_recurrence_id: int = 51001
    approval_status: int = 200
    decline_status: int = 400
    """UNCERTAIN: one third-party article [S22]."""
    error_status: int = 400
    """UNCERTAIN: only "non-200" is confirmed."""
    invalid_grant_status: int = 401
    """UNCERTAIN: the fact sheet recommends 401."""
    invalid_token_status: int = 401
    """UNCERTAIN: likely 401."""
    declines: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DECLINES))
    """Amount (as 2-decimal text) → processor text of the decline it triggers."""
    check_decline_amounts: tuple[str, ...] = ("1.12",)
    """INVENTED: check amounts answered 125 "NOT successfully processed"."""
    checks_in_transaction_export: bool = True
    """INVENTED (no check export is documented): check records appear in
    ``/v1/transactions/export/by_date_range`` after the card records, told apart by
    ``check_transaction_id``. Off: only the invented ``/v1/checks/export/by_date_range``
    returns them."""
    address_on_file: AddressOnFile = field(default_factory=AddressOnFile)
    discretionary_fields: tuple[str, ...] = ()
    """Titles of the merchant's discretionary data fields (at most 6). Empty: any title is
    stored verbatim."""
    denied_operations: frozenset[str] = frozenset()
    """Operations (e.g. ``"refund"``) the API user lacks permission for: answered error 981."""
    protect_fallback_number: str = "4012000098765439"
    """Card an unreadable ``encrypted_number`` / ``hpf_token`` stands for (fact sheet §4.5)."""
    protect_strict: bool = False
    """When true, encrypted values that the sandbox key cannot open are refused (error 35)."""
    protect_key: str = "paytrace-sandbox-protect-key"
    daily_cutoff: time | None = None
    """Pacific local time at which the open batch closes by itself each day."""
    recurring_run_time: time = time(0, 30)
    """Recurring payments run at 12:30 a.m. Pacific [S24]."""
    created_by: str = ""
    """``created.by`` in exports; defaults to the API user name."""
    notify_url: str | None = None
    """Where the optional notifier POSTs transaction hints; ``None`` disables it."""
    notify_secret: str | None = None
    """``whsec_``+base64 signing secret; derived from the seed when not given."""
    notify_attempts: int = 4
    notify_backoff_s: float = 0.5

    def __post_init__(self) -> None:
        if len(self.discretionary_fields) > MAX_DISCRETIONARY_FIELDS:
            raise ValueError(
                f"at most {MAX_DISCRETIONARY_FIELDS} discretionary data fields can be configured"
            )
        self.declines = {_amount_key(k): v for k, v in self.declines.items()}
        self.check_decline_amounts = tuple(_amount_key(a) for a in self.check_decline_amounts)

    @property
    def api_user(self) -> str:
        return self.created_by or self.username


def _amount_key(amount: str | Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))
