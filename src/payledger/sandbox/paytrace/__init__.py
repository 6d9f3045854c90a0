"""A faithful, in-memory emulator of the PayTrace v1 JSON API (see docs/sandbox-paytrace.md).

Built from the vendor fact sheet only; it imports nothing from payledger but the shared
fault injector.
"""

from payledger.sandbox.paytrace.app import create_app
from payledger.sandbox.paytrace.clock import SandboxClock
from payledger.sandbox.paytrace.notifier import Notifier, sign
from payledger.sandbox.paytrace.protect import (
    ProtectNonce,
    decrypt_field,
    encrypt_field,
    protect_nonce,
)
from payledger.sandbox.paytrace.service import PayTraceSandbox
from payledger.sandbox.paytrace.settings import AddressOnFile, PayTraceSandboxSettings

__all__ = [
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
]
