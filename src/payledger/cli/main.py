"""``payledger``: the operator's command line."""

from __future__ import annotations

from typing import Annotated

import typer

from payledger.cli import backfill as backfill_command
from payledger.cli import bench, demo, doctor, mapping, operate, sandbox, scan, secrets, tokens
from payledger.cli import reconcile as reconcile_command
from payledger.cli import shadow as shadow_command
from payledger.cli import status as status_command
from payledger.cli import sync as sync_command
from payledger.cli.common import load

app = typer.Typer(
    name="payledger",
    help="Keep a PayTrace merchant account and a Dynamics 365 F&O company in step.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML configuration file (else $PAYLEDGER_CONFIG, else ./payledger.toml).",
        ),
    ] = None,
) -> None:
    ctx.obj = {"settings": load(config)}


app.command("demo")(demo.demo)
app.command("serve")(operate.serve)
app.command("worker")(operate.worker)
app.command("migrate")(operate.migrate_command)
app.command("replay")(operate.replay)
app.command("backfill")(backfill_command.backfill)
app.command("status")(status_command.status)
app.command("scan-pan")(scan.scan_pan)
app.command("sandbox")(sandbox.sandbox)
app.command("doctor")(doctor.doctor_command)
app.add_typer(secrets.app, name="secrets")
app.add_typer(tokens.app, name="tokens")
app.add_typer(bench.app, name="bench")
app.add_typer(mapping.app, name="mapping")
app.add_typer(shadow_command.app, name="shadow")
app.add_typer(reconcile_command.app, name="reconcile")
app.add_typer(sync_command.app, name="sync")

if __name__ == "__main__":
    app()
