"""A faithful local emulator of Dynamics 365 Finance & Operations OData and its Entra ID tenant.

Built from the vendor fact sheet (``shared/reference/d365-odata.md``), never from payledger's
connector. ``create_app(settings)`` returns the ASGI app; docs/sandbox-d365.md describes it.
"""

from payledger.sandbox.d365.app import D365Sandbox, create_app
from payledger.sandbox.d365.settings import (
    D365SandboxSettings,
    SandboxClient,
    default_extension_fields,
    realistic_faults,
)

__all__ = [
    "D365Sandbox",
    "D365SandboxSettings",
    "SandboxClient",
    "create_app",
    "default_extension_fields",
    "realistic_faults",
]
