"""``payledger``: the operator's command line. Its commands are listed in
:data:`payledger.cli.lazy.COMMANDS` and imported only when they run."""

from __future__ import annotations

from typing import Annotated

import typer

from payledger.cli.lazy import LazyGroup

app = typer.Typer(
    name="payledger",
    cls=LazyGroup,
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
    from payledger.cli.common import load

    ctx.obj = {"settings": load(config)}


if __name__ == "__main__":
    app()
