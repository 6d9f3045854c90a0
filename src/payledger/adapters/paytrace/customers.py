"""The customer sync's ``CustomerProfiles`` port on PayTrace customer profiles.

Profiles are read with the customer export and written with ``customer/update``. PayTrace
replaces a whole address or the whole discretionary data on update, so a change of one field
is sent merged into the profile's current values. Card data is never read or written here:
a profile comes back with a masked number only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.schemas import (
    PayTraceAddress,
    PayTraceAddressOut,
    PayTraceCustomerDetails,
    PayTraceCustomerProfile,
    PayTraceProtectNonce,
)
from payledger.adapters.paytrace.translate import customer_from_profile
from payledger.domain.charges import ProtectCard
from payledger.flows.ports import GatewayProfile

_ADDRESS_FIELDS = ("name", "street_address", "street_address2", "city", "state", "zip", "country")
_BILLING = "billing_address."
_DISCRETIONARY = "discretionary_data."


def profile_fields(profile: PayTraceCustomerProfile) -> dict[str, Any]:
    """The profile's values, flat, as the ``paytrace_customer_profile`` template names them."""
    billing = profile.billing_address
    fields: dict[str, Any] = {
        f"{_BILLING}{name}": getattr(billing, name) for name in _ADDRESS_FIELDS
    }
    fields.update(email=profile.email, phone=profile.phone)
    for title, value in profile.discretionary_data.items():
        fields[f"{_DISCRETIONARY}{title}"] = value
    return fields


def gateway_profile(profile: PayTraceCustomerProfile) -> GatewayProfile:
    masked = profile.credit_card.masked_number if profile.credit_card else ""
    return GatewayProfile(
        customer_id=profile.customer_id,
        customer=customer_from_profile(profile),
        fields=profile_fields(profile),
        masked_card=masked,
    )


def _address(current: PayTraceAddressOut, changes: Mapping[str, Any]) -> PayTraceAddress:
    values = {name: getattr(current, name) or None for name in (*_ADDRESS_FIELDS, "county")}
    for key, value in changes.items():
        if key.startswith(_BILLING):
            values[key.removeprefix(_BILLING)] = str(value)
    return PayTraceAddress(**values)


class PayTraceCustomerProfiles:
    """Implements ``flows.ports.CustomerProfiles`` with a :class:`PayTraceClient`."""

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client
        self._current: dict[str, PayTraceCustomerProfile] = {}

    async def profiles(self) -> list[GatewayProfile]:
        found = await self.client.export_customers()
        self._current = {profile.customer_id: profile for profile in found}
        return [gateway_profile(profile) for profile in found]

    async def _profile(self, customer_id: str) -> PayTraceCustomerProfile:
        known = self._current.get(customer_id)
        if known is not None:
            return known
        [found] = await self.client.export_customers(customer_id=customer_id)
        return found

    async def update_profile(self, profile: GatewayProfile, changes: Mapping[str, Any]) -> None:
        current = await self._profile(profile.customer_id)
        details: dict[str, Any] = {}
        if any(key.startswith(_BILLING) for key in changes):
            details["billing_address"] = _address(current.billing_address, changes)
        for contact in ("email", "phone"):
            if contact in changes:
                details[contact] = str(changes[contact])
        discretionary = {
            key.removeprefix(_DISCRETIONARY): str(value)
            for key, value in changes.items()
            if key.startswith(_DISCRETIONARY)
        }
        if discretionary:
            details["discretionary_data"] = {**current.discretionary_data, **discretionary}
        await self.client.update_customer(
            profile.customer_id, profile=PayTraceCustomerDetails(**details)
        )
        self._current.pop(profile.customer_id, None)

    async def stop_recurring(self, customer_id: str) -> int:
        recurrences = await self.client.export_recurrences(customer_id=customer_id)
        active = [r for r in recurrences if r.status.upper() == "ACTIVE"]
        if active:
            await self.client.delete_recurrence(customer_id=customer_id)
        return len(active)


class PayTraceCardOnFile:
    """Implements ``flows.ports.notices.CardOnFile``: a Protect-captured card replaces the
    vault customer's; payledger only ever holds the one-time token and key."""

    def __init__(self, client: PayTraceClient) -> None:
        self.client = client

    async def replace_card(self, customer_id: str, card: ProtectCard) -> None:
        nonce = PayTraceProtectNonce(hpf_token=card.hpf_token, enc_key=card.enc_key)
        await self.client.update_customer_protect(customer_id, nonce)
