"""Customer profiles (fact sheet §4.15): merchant-chosen string ids, masked card kept."""

from __future__ import annotations

from datetime import datetime

from payledger.sandbox.paytrace import checks, messages
from payledger.sandbox.paytrace.cards import Card
from payledger.sandbox.paytrace.errors import VendorErrors
from payledger.sandbox.paytrace.records import BankAccount, CustomerProfile
from payledger.sandbox.paytrace.requests import Body
from payledger.sandbox.paytrace.state import SandboxState

CONTACT_KEYS = ("email", "phone", "fax")


def new_customer_id(body: Body) -> str:
    customer_id = body.text("customer_id")
    if not customer_id:
        raise VendorErrors.of(messages.INVALID_CUSTOMER_ID)
    return customer_id


def payment_method(state: SandboxState, body: Body, at: datetime) -> Card | BankAccount:
    """The card or bank account a create/update body carries (error 35 when neither)."""
    if body.has("check") and not body.has("credit_card"):
        return bank_account(body.section("check"))
    return body.card(state.settings, at.date())


def bank_account(section: Body) -> BankAccount:
    problems = VendorErrors()
    account = BankAccount(section.text("account_number"), section.text("routing_number"))
    checks.validate_account(account.account_number, account.routing_number, problems)
    problems.raise_if_any()
    return account


def create(
    state: SandboxState, at: datetime, body: Body, method: Card | BankAccount
) -> CustomerProfile:
    """Store a new profile; 171 (with the masked card) when the id is taken."""
    customer_id = new_customer_id(body)
    if customer_id in state.customers:
        masked = {"masked_card_number": method.masked} if isinstance(method, Card) else {}
        raise VendorErrors.of(messages.DUPLICATE_CUSTOMER_ID, **masked)
    profile = CustomerProfile(
        customer_id=customer_id,
        created=state.origin(at),
        card=method if isinstance(method, Card) else None,
        account=method if isinstance(method, BankAccount) else None,
        discretionary_data=body.discretionary(state.settings),
    )
    apply_contact(profile, body)
    state.customers[customer_id] = profile
    return profile


def apply_contact(profile: CustomerProfile, body: Body) -> None:
    for key in ("billing_address", "shipping_address"):
        if body.has(key):
            setattr(profile, key, body.address(key))
    for key in CONTACT_KEYS:
        if body.has(key):
            setattr(profile, key, body.text(key))


def update(state: SandboxState, at: datetime, body: Body) -> CustomerProfile:
    profile = state.customer(body.text("customer_id"))
    new_id = body.text("new_id")
    if new_id and new_id != profile.customer_id and new_id in state.customers:
        raise VendorErrors.of(messages.DUPLICATE_CUSTOMER_ID)
    if body.has("credit_card"):
        profile.card = body.card(state.settings, at.date())
    if body.has("direct_deposit_account") or body.has("transit_routing_number"):
        profile.account = bank_account(
            Body(
                {
                    "account_number": body.text("direct_deposit_account"),
                    "routing_number": body.text("transit_routing_number"),
                }
            )
        )
    if body.has("discretionary_data"):
        profile.discretionary_data = body.discretionary(state.settings)
    apply_contact(profile, body)
    if new_id and new_id != profile.customer_id:
        del state.customers[profile.customer_id]
        _rename_references(state, profile.customer_id, new_id)
        profile.customer_id = new_id
        state.customers[new_id] = profile
    return profile


def _rename_references(state: SandboxState, old: str, new: str) -> None:
    for recurrence in state.recurrences.values():
        if recurrence.customer_id == old:
            recurrence.customer_id = new


def delete(state: SandboxState, customer_id: str) -> CustomerProfile:
    profile = state.customer(customer_id)
    del state.customers[customer_id]
    for recurrence in state.recurrences.values():
        if recurrence.customer_id == customer_id:
            recurrence.active = False
    return profile


def find_text(profile: CustomerProfile, text: str) -> bool:
    haystack = [
        profile.customer_id,
        profile.email,
        profile.phone,
        *profile.billing_address.values(),
        *profile.discretionary_data.values(),
    ]
    return any(text.lower() in value.lower() for value in haystack)
