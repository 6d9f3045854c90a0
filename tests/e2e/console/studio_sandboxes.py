"""Both sandboxes as ``payledger sandbox`` serves them, the D365 one with one more extension
field: ``PaymentChannel`` on ``CustomerPaymentJournalLines``, the kind of field a customer adds
and then maps in the studio. Run as a script: ``python studio_sandboxes.py PT_PORT D365_PORT
TLS_DIR``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from payledger.sandbox.d365 import D365SandboxSettings, default_extension_fields
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.paytrace import PayTraceSandboxSettings
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.web import serving

EXTENSION = "PaymentChannel"
HOST = "127.0.0.1"


def main(paytrace_port: int, d365_port: int, tls_dir: Path) -> None:
    fields = default_extension_fields()
    fields["CustomerPaymentJournalLines"] = {EXTENSION: "str"}
    cert, key = write_self_signed_certificate(tls_dir, hosts=(HOST, "localhost"))
    d365 = create_d365(
        D365SandboxSettings(base_url=f"https://{HOST}:{d365_port}", extension_fields=fields)
    )
    paytrace = create_paytrace(PayTraceSandboxSettings())
    asyncio.run(
        serving.serve_together(
            serving.config(paytrace, HOST, paytrace_port),
            serving.config(d365, HOST, d365_port, ssl_certfile=str(cert), ssl_keyfile=str(key)),
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
