"""``payledger sandbox``: the PayTrace, Dynamics 365 and secret-store emulators on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from payledger.cli.common import console, run, setup_logging
from payledger.config import LoggingSettings, Settings
from payledger.sandbox.d365 import D365SandboxSettings
from payledger.sandbox.d365 import create_app as create_d365
from payledger.sandbox.d365.tls import write_self_signed_certificate
from payledger.sandbox.hashicorp_vault import DEFAULT_TOKEN
from payledger.sandbox.hashicorp_vault import create_app as create_hashicorp_vault
from payledger.sandbox.keyvault import create_app as create_keyvault
from payledger.sandbox.paytrace import PayTraceSandboxSettings
from payledger.sandbox.paytrace import create_app as create_paytrace
from payledger.web import serving


def sandbox(
    paytrace_port: Annotated[int, typer.Option(help="PayTrace v1 emulator port (0: off).")] = 8801,
    d365_port: Annotated[int, typer.Option(help="D365 F&O emulator port, https (0: off).")] = 8802,
    keyvault_port: Annotated[
        int,
        typer.Option(help="Azure Key Vault emulator port, e.g. 8803 (0: off; needs --d365-port)."),
    ] = 0,
    vault_port: Annotated[
        int, typer.Option(help="HashiCorp Vault KV v2 emulator port, e.g. 8804 (0: off).")
    ] = 0,
    host: Annotated[str, typer.Option(help="Listen address; keep it on loopback.")] = "127.0.0.1",
    tls_dir: Annotated[
        Path, typer.Option(help="Where the D365 sandbox's self-signed certificate goes.")
    ] = Path("var/sandbox-tls"),
    seed: Annotated[int, typer.Option(help="Seed for deterministic ids and faults.")] = 0,
) -> None:
    """Serve faithful local emulators of PayTrace and Dynamics 365 F&O (Ctrl-C to stop).

    The D365 side is https with a self-signed certificate, because msal (and so payledger's
    connector) only talks to https authorities; point curl at it with ``--cacert``.
    """
    setup_logging(Settings(logging=LoggingSettings(file=None, format="console")))
    configs = []
    if paytrace_port:
        paytrace = create_paytrace(PayTraceSandboxSettings(seed=seed))
        configs.append(serving.config(paytrace, host, paytrace_port))
        console.print(
            f"PayTrace sandbox  http://{host}:{paytrace_port}  (API user demo123 / demo123; "
            "any integrator_id; control API /_sandbox/)"
        )
    if d365_port:
        cert, key = write_self_signed_certificate(tls_dir, hosts=(host, "localhost"))
        base_url = f"https://{host}:{d365_port}"
        d365 = create_d365(D365SandboxSettings(base_url=base_url, fault_seed=seed))
        configs.append(
            serving.config(d365, host, d365_port, ssl_certfile=str(cert), ssl_keyfile=str(key))
        )
        console.print(
            f"D365 sandbox      {base_url}  (tenant payledger-sandbox, client payledger-client / "
            f"payledger-secret, scope {base_url}/.default; curl --cacert {cert})"
        )
        if keyvault_port:
            keyvault = create_keyvault(None, d365.state.sandbox.tokens)
            configs.append(serving.config(keyvault, host, keyvault_port))
            console.print(
                f"Key Vault sandbox http://{host}:{keyvault_port}  (tokens from the D365 tenant "
                "for https://vault.azure.net)"
            )
    if vault_port:
        vault = create_hashicorp_vault()
        configs.append(serving.config(vault, host, vault_port, http="h11"))
        console.print(
            f"Vault sandbox     http://{host}:{vault_port}  (KV v2 at secret/; "
            f"VAULT_TOKEN={DEFAULT_TOKEN})"
        )
    if not configs:
        raise typer.BadParameter("every sandbox is off; give at least one port")
    run(serving.serve_together(*configs))
