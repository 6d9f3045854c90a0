"""The public names of both packages are pinned, and no test card number leaks into the adapter."""

from __future__ import annotations

import re
from pathlib import Path

import payledger.adapters.paytrace as adapter
import payledger.sandbox.paytrace as sandbox
from payledger.sandbox.paytrace.cards import luhn_ok

ADAPTER_SOURCES = Path(adapter.__file__).parent


def test_adapter_exports():
    assert set(adapter.__all__) == {
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
    }
    assert all(hasattr(adapter, name) for name in adapter.__all__)


def test_export_lists_are_sorted():
    assert adapter.__all__ == sorted(adapter.__all__)
    assert sandbox.__all__ == sorted(sandbox.__all__)


def test_sandbox_exports():
    assert set(sandbox.__all__) == {
        "AddressOnFile",
        "Notifier",
        "PayTraceSandbox",
        "PayTraceSandboxSettings",
        "ProtectNonce",
        "SandboxClock",
        "create_app",
        "decrypt_field",
        "encrypt_field",
        "protect_nonce",
        "sign",
    }
    assert all(hasattr(sandbox, name) for name in sandbox.__all__)


def test_no_card_number_in_adapter_sources():
    for source in ADAPTER_SOURCES.rglob("*.py"):
        for digits in re.findall(r"\d{13,19}", source.read_text()):
            assert not luhn_ok(digits), f"{source.name} holds what looks like a card number"


def test_sandbox_imports_nothing_from_payledger_but_faults():
    sandbox_sources = Path(sandbox.__file__).parent
    for source in sandbox_sources.rglob("*.py"):
        for imported in re.findall(
            r"^\s*(?:from|import) (payledger[\w.]*)", source.read_text(), re.MULTILINE
        ):
            assert imported.startswith(("payledger.sandbox.paytrace", "payledger.sandbox.faults"))
