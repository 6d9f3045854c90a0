"""Running payledger: ``serve``, ``worker``, ``migrate`` and ``replay``."""

from __future__ import annotations

import asyncio
import signal
from enum import StrEnum
from typing import Annotated

import typer

from payledger.adapters.db.migrate import current_revision, migrate
from payledger.bootstrap import Container, run_scheduler
from payledger.cli.common import console, opened, run, settings_from, setup_logging, with_container
from payledger.doctor.startup import require_valid_templates
from payledger.stores.postings import replay_dead_postings
from payledger.tracing import traced_process
from payledger.web import serving
from payledger.web.serving import serve_together


class TemplateChoice(StrEnum):
    """Which template version a replayed posting is mapped with."""

    CURRENT = "current"
    ORIGINAL = "original"


def serve(
    ctx: typer.Context,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run workers elsewhere.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Listen address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from config).")] = None,
) -> None:
    """Serve the HTTP API, health, readiness and metrics (with an embedded worker by default)."""
    from payledger.web.app import create_app

    settings = settings_from(ctx)
    setup_logging(settings)

    async def go() -> None:
        async with opened(settings) as container:
            await require_valid_templates(container)
            app = create_app(container, embedded_worker=False if no_worker else None)
            await serve_together(
                serving.config(app, host or settings.service.host, port or settings.service.port)
            )

    with traced_process(settings.tracing, role="serve"):
        run(go())


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default from config).")
    ] = None,
) -> None:
    """Run jobs and schedules until SIGTERM or Ctrl-C; in-flight jobs finish first."""
    settings = settings_from(ctx)
    setup_logging(settings)

    async def go(container: Container) -> None:
        await require_valid_templates(container)
        work = container.worker(concurrency=concurrency)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def shut_down() -> None:
            stop.set()
            work.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, shut_down)
        console.print(f"worker [bold]{work.name}[/bold] running; Ctrl-C to stop")
        await asyncio.gather(work.run(), run_scheduler(container, stop))

    with traced_process(settings.tracing, role="worker"):
        with_container(settings, go)


def migrate_command(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (PostgreSQL needs this before serve/worker)."""
    settings = settings_from(ctx)

    async def go() -> None:
        async with opened(settings, prepare=False) as container:
            before = await current_revision(container.database)
            await migrate(container.database)
            after = await current_revision(container.database)
        console.print(f"database schema: {before or 'empty'} -> [bold]{after}[/bold]")

    run(go())


def replay(
    ctx: typer.Context,
    job_id: Annotated[
        list[int] | None, typer.Option("--id", help="Replay this dead job (repeatable).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Replay dead jobs of this kind.")] = None,
    error: Annotated[
        str | None, typer.Option(help="Replay dead jobs whose error contains this text.")
    ] = None,
    posting: Annotated[
        list[str] | None,
        typer.Option("--posting", help="Replay this dead posting, by reference (repeatable)."),
    ] = None,
    postings: Annotated[
        bool, typer.Option("--postings", help="Replay every dead posting.")
    ] = False,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead job and posting.")] = False,
    actor: Annotated[
        str, typer.Option(help="Who is replaying (written to the audit log).")
    ] = "cli",
    template_version: Annotated[
        TemplateChoice,
        typer.Option(
            "--template-version",
            help="Map dead postings again with the templates in force (current) or with the "
            "version recorded on each posting (original).",
        ),
    ] = TemplateChoice.CURRENT,
) -> None:
    """Return dead letters to work after the data or configuration was fixed.

    Dead jobs go back to the queue with a fresh retry budget; dead postings are mapped again
    from their payment event with the current configuration and templates (or, with
    ``--template-version original``, the template version that mapped them first).
    """
    if not (job_id or kind or error or posting or postings or all_):
        raise typer.BadParameter(
            "say what to replay: --id, --kind, --error, --posting, --postings or --all"
        )
    settings = settings_from(ctx)

    async def go(container: Container) -> tuple[int, int]:
        jobs = 0
        if job_id or kind or error or all_:
            jobs = await container.queue.replay(
                actor=actor, ids=job_id or None, kind=kind, error_contains=error
            )
        replayed_postings = 0
        if posting or postings or all_:
            replayed_postings = await replay_dead_postings(
                container.queue,
                actor=actor,
                references=posting or None,
                original_templates=template_version is TemplateChoice.ORIGINAL,
            )
        return jobs, replayed_postings

    jobs, replayed = with_container(settings, go)
    console.print(
        f"replayed [bold]{jobs}[/bold] dead job(s) and [bold]{replayed}[/bold] dead posting(s)"
    )
