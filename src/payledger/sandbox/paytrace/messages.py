"""Exact PayTrace v1 wording (fact sheet §3) and the codes the sandbox had to invent.

Confirmed texts are reproduced byte for byte, including odd spacing. Codes in the ``INVENTED``
table are not PayTrace's: the fact sheet found no code for these situations, so the sandbox
makes them up in a range (9100+) that cannot be mistaken for a real one.
"""

from __future__ import annotations

REQUEST_FAILED = "One or more errors has occurred."
REQUEST_COMPLETED = "Your request has been successfully completed."

APPROVED = "Your transaction was successfully approved."
DECLINED = "Your transaction was not approved."
AUTO_VOIDED = "Your transaction was approved but automatically voided."  # wording UNCERTAIN
REFUNDED = "Your transaction was successfully refunded."
VOIDED = "Your transaction was successfully voided."
CAPTURED = "Your transaction was successfully captured."
CHECK_PROCESSED = "Your check was successfully processed."
CHECK_REFUNDED = "Your check was successfully refunded."
CHECK_MANAGED = "Your check was successfully managed."
CHECK_NOT_PROCESSED = "Your check was NOT successfully processed."


def receipt_emailed(transaction_id: int, email: str) -> str:
    return f"The receipt for transaction ID {transaction_id} was successfully emailed to {email}."


def profile_changed(customer_id: str, name: str, verb: str) -> str:
    """Codes 160/161/162: ``verb`` is created, updated or deleted."""
    return f"The customer profile for {customer_id}/{name} was successfully {verb}."


def level_three_added(transaction_id: int, brand: str, line_items: int) -> str:
    return (
        f"{brand} enhanced data was successfully added to Transaction ID {transaction_id}. "
        f"{line_items} line item records were created."
    )


# Confirmed ``errors`` codes (fact sheet §3.1).
CUSTOMER_NOT_FOUND = 30
INVALID_CARD_NUMBER = 35
INVALID_EXPIRATION_MONTH = 43
INVALID_ACCOUNT_NUMBER = 45
INVALID_ROUTING_NUMBER = 46
INVALID_TRANSACTION_ID = 58
CHECK_NOT_FOUND = 80
DUPLICATE_CUSTOMER_ID = 171
TRANSACTION_NOT_FOUND = 811
NOT_CAPTURABLE = 816
NOT_REFUNDABLE = 817
NOT_VOIDABLE = 818
INSUFFICIENT_PERMISSIONS = 981

# Invented codes (no PayTrace source): kept apart so they are easy to correct.
INVALID_AMOUNT = 9101
AMOUNT_TOO_HIGH = 9102
NOT_ADJUSTABLE = 9103
INVALID_EXPIRATION_YEAR = 9104
RECURRENCE_NOT_FOUND = 9105
INVALID_INTEGRATOR_ID = 9106
INVALID_CUSTOMER_ID = 9107
INVALID_DATE_RANGE = 9108
INVALID_DISCRETIONARY_DATA = 9109
INVALID_FREQUENCY = 9110
BATCH_NOT_FOUND = 9111
INVALID_EMAIL = 9112
INVALID_PROTECT_TOKEN = 9113
NOT_ENHANCEABLE = 9114

CONFIRMED: dict[int, str] = {
    INVALID_CARD_NUMBER: "Please provide a valid Credit Card Number.",
    INVALID_EXPIRATION_MONTH: "Please provide a valid Expiration Month.",
    INVALID_ACCOUNT_NUMBER: "Please provide a valid Checking Account Number.",
    INVALID_ROUTING_NUMBER: "Please provide a valid Transit Routing Number.",
    INVALID_TRANSACTION_ID: "Please provide a valid Transaction ID.",
    CHECK_NOT_FOUND: "The Check ID that you provided was not found in the PayTrace record.",
    DUPLICATE_CUSTOMER_ID: "Please provide a unique customer ID.",
    TRANSACTION_NOT_FOUND: "The Transaction ID that you provided was not found.",
    NOT_CAPTURABLE: (
        "The Transaction ID that you provided could not be captured. "
        "Only uncaptured, approved authorizations can be captured."
    ),
    NOT_REFUNDABLE: (
        "The Transaction ID that you provided could not be refunded. "
        "Only settled transactions can be refunded.  Please try to void the transaction instead."
    ),
    NOT_VOIDABLE: (
        "The Transaction ID that you provided could not be voided. "
        "Only transactions that are pending settlement can be voided."
    ),
    INSUFFICIENT_PERMISSIONS: "Log in failed for insufficient permissions.",
}

CHECK_ALREADY_CLOSED = (
    "The Check ID that you have provided was not found in the PayTrace records. "
    "It may already be voided or settled."
)

INVENTED: dict[int, str] = {
    INVALID_AMOUNT: "Please provide a valid Amount.",
    AMOUNT_TOO_HIGH: "The amount provided exceeds the amount available for this transaction.",
    NOT_ADJUSTABLE: (
        "The Transaction ID that you provided could not be adjusted. Only unsettled, approved "
        "authorizations and refunds can be adjusted, by no more than 30% above the original."
    ),
    INVALID_EXPIRATION_YEAR: "Please provide a valid Expiration Year.",
    RECURRENCE_NOT_FOUND: "The Recurrence ID that you provided was not found.",
    INVALID_INTEGRATOR_ID: "Please provide a valid Integrator ID.",
    INVALID_CUSTOMER_ID: "Please provide a valid Customer ID.",
    INVALID_DATE_RANGE: "Please provide a valid Start Date and End Date (MM/DD/YYYY).",
    INVALID_DISCRETIONARY_DATA: "Please provide valid Discretionary Data.",
    INVALID_FREQUENCY: "Please provide a valid Recurrence Frequency.",
    BATCH_NOT_FOUND: "The Batch Number that you provided was not found.",
    INVALID_EMAIL: "Please provide a valid Email Address.",
    INVALID_PROTECT_TOKEN: "Please provide a valid PayTrace Protect token and key.",
    NOT_ENHANCEABLE: (
        "Enhanced data can only be added to approved, unsettled Visa or MasterCard sales."
    ),
}


def error_message(code: int) -> str:
    return CONFIRMED.get(code) or INVENTED[code]


def customer_not_found(customer_id: str) -> str:
    return f"Customer ID, {customer_id}, was not found or is incomplete."
