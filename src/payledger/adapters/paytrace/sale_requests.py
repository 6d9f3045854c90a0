"""Sales and authorizations from a charge request: every charge payledger makes is sent here.

The business fields come from the ``paytrace_transaction_request`` template, already mapped by
the flow (``flows.charge_request``); this module only puts them in PayTrace's request shape
and adds the payment method the card gives: a customer profile (``customer_id``), a Protect
``hpf_token`` + ``enc_key``, or a client-side encrypted number. payledger never sees a card
number.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.schemas import (
    PayTraceEncryptedCard,
    PayTraceProtectNonce,
    PayTraceSaleDetails,
    PayTraceTransactionResult,
)
from payledger.domain.charges import CardSource, EncryptedCard, ProtectCard, StoredCard
from payledger.domain.errors import MappingError


def sale_details(request: Mapping[str, Any]) -> PayTraceSaleDetails:
    """The optional fields of a sale from a mapped charge request (its ``amount`` is the
    flow's to give). Discretionary values are sent as text, as PayTrace stores them.

    Raises:
        MappingError: a field is not one a PayTrace sale takes, or has the wrong shape.
    """
    fields = {name: value for name, value in request.items() if name != "amount"}
    data = fields.get("discretionary_data")
    if isinstance(data, Mapping):
        fields["discretionary_data"] = {str(title): str(value) for title, value in data.items()}
    try:
        return PayTraceSaleDetails.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise MappingError(f"the charge request does not fit a PayTrace sale: {problems}") from None


async def send_charge(
    client: PayTraceClient,
    amount: Decimal,
    card: CardSource,
    details: PayTraceSaleDetails,
    *,
    capture: bool,
) -> PayTraceTransactionResult:
    """A sale (``capture``) or an authorization of ``amount`` with ``card``'s payment method."""
    if isinstance(card, StoredCard):
        by_customer = client.sale_by_customer if capture else client.authorize_by_customer
        return await by_customer(amount, card.customer_id, details=details)
    if isinstance(card, ProtectCard):
        nonce = PayTraceProtectNonce(hpf_token=card.hpf_token, enc_key=card.enc_key)
        protect = client.sale_protect if capture else client.authorize_protect
        return await protect(amount, nonce, details=details)
    return await _keyed(client, amount, card, details, capture=capture)


async def _keyed(
    client: PayTraceClient,
    amount: Decimal,
    card: EncryptedCard,
    details: PayTraceSaleDetails,
    *,
    capture: bool,
) -> PayTraceTransactionResult:
    encrypted = PayTraceEncryptedCard(
        encrypted_number=card.encrypted_number,
        expiration_month=card.expiration_month,
        expiration_year=card.expiration_year,
    )
    keyed = client.sale_keyed if capture else client.authorize_keyed
    return await keyed(amount, encrypted, encrypted_csc=card.encrypted_csc or None, details=details)
