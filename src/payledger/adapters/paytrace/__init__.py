"""PayTrace v1 connector: async client, wire models, error mapping and translation."""

from payledger.adapters.paytrace.client import PayTraceClient
from payledger.adapters.paytrace.errors import PayTraceAuthError, PayTraceRejected, map_errors
from payledger.adapters.paytrace.outcomes import message_of, outcome_of
from payledger.adapters.paytrace.schemas import (
    PayTraceAddress,
    PayTraceBatch,
    PayTraceCheck,
    PayTraceCheckRecord,
    PayTraceCheckResult,
    PayTraceCustomerDetails,
    PayTraceCustomerProfile,
    PayTraceCustomerResult,
    PayTraceEncryptedCard,
    PayTraceProtectNonce,
    PayTraceRecurrence,
    PayTraceRecurrenceSpec,
    PayTraceSaleDetails,
    PayTraceTransaction,
    PayTraceTransactionResult,
)
from payledger.adapters.paytrace.session import PayTracePaths, RetryPolicy
from payledger.adapters.paytrace.translate import (
    batch_from_export,
    customer_from_profile,
    event_key,
    parse_pacific,
    payment_from_export,
    payment_from_result,
    token_from_profile,
)
from payledger.adapters.paytrace.translate_checks import payment_from_check

__all__ = [
    "PayTraceAddress",
    "PayTraceAuthError",
    "PayTraceBatch",
    "PayTraceCheck",
    "PayTraceCheckRecord",
    "PayTraceCheckResult",
    "PayTraceClient",
    "PayTraceCustomerDetails",
    "PayTraceCustomerProfile",
    "PayTraceCustomerResult",
    "PayTraceEncryptedCard",
    "PayTracePaths",
    "PayTraceProtectNonce",
    "PayTraceRecurrence",
    "PayTraceRecurrenceSpec",
    "PayTraceRejected",
    "PayTraceSaleDetails",
    "PayTraceTransaction",
    "PayTraceTransactionResult",
    "RetryPolicy",
    "batch_from_export",
    "customer_from_profile",
    "event_key",
    "map_errors",
    "message_of",
    "outcome_of",
    "parse_pacific",
    "payment_from_check",
    "payment_from_export",
    "payment_from_result",
    "token_from_profile",
]
