"""``payledger risk``: the review queue (list, approve, reject, audited as ``cli:<user>``),
training a new model now, and the screen's status.

``review list`` prints the held items (id, what is held, transaction, amount, score,
reasons); ``review approve ID`` releases what item ID holds, once; ``review reject ID`` keeps
it from the ledger or the gateway for good. An unknown ID exits 2; an item decided before
exits 1 and says by whom. ``train`` trains a model version on the stored events; ``status``
shows the mode, the model in use or why there is none, and the events by action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from payledger.bootstrap import Container
from payledger.cli.common import cli_actor, console, settings_from, setup_logging, with_container

app = typer.Typer(
    help="Risk screening: the review queue (list, approve, reject), training, status."
)
review = typer.Typer(help="The review queue: held postings, charges and refunds.")
app.add_typer(review, name="review")

Comment = Annotated[str, typer.Option(help="Why (kept in the audit log).")]


@review.command("list")
def list_items(
    ctx: typer.Context,
    all_items: Annotated[bool, typer.Option("--all", help="Decided items too.")] = False,
) -> None:
    """List the items waiting for a decision (``--all``: decided ones too)."""
    from payledger.bootstrap.risk import review_queue
    from payledger.flows.ports.risk import ReviewState

    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def show(container: Container) -> None:
        state = None if all_items else ReviewState.PENDING
        table = Table("id", "held", "transaction", "amount", "score", "reasons", "state", "by")
        for item in await review_queue(container).items(state):
            table.add_row(
                str(item.id),
                f"{item.kind.value} {escape(item.ref)}",
                escape(item.transaction_id or "-"),
                str(item.amount),
                f"{item.score:.2f}",
                escape(", ".join(reason.code for reason in item.reasons) or "-"),
                item.state.value,
                escape(item.decided_by or "-"),
            )
        console.print(table if table.row_count else "nothing waits for review")

    with_container(settings, show)


@review.command("approve")
def approve(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's id.")],
    comment: Comment = "",
) -> None:
    """Approve item ID: what it holds goes ahead, once."""
    _decide(ctx, item_id, approve=True, comment=comment)


@review.command("reject")
def reject(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's id.")],
    comment: Comment = "",
) -> None:
    """Reject item ID: what it holds is never posted, charged or refunded."""
    _decide(ctx, item_id, approve=False, comment=comment)


def _decide(ctx: typer.Context, item_id: int, *, approve: bool, comment: str) -> None:
    from payledger.bootstrap.risk import decide

    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)

    async def go(container: Container) -> Any:
        return await decide(container, item_id, approve=approve, actor=cli_actor(), comment=comment)

    decided = with_container(settings, go)
    item = decided.item
    if not decided.applied:
        console.print(f"item {item.id} was already {item.state.value} by {escape(item.decided_by)}")
        raise typer.Exit(1)
    released = f", {decided.released} released" if approve else ""
    console.print(
        f"item {item.id} ({item.kind.value} {escape(item.ref)}): {item.state.value}{released}"
    )


@app.command("train")
def train(ctx: typer.Context) -> None:
    """Train a new model version on the stored events now; it is used from now on."""
    from payledger.bootstrap import risk

    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    trainer = (ctx.obj or {}).get("risk_trainer")

    async def go(container: Container) -> Any:
        return await risk.train(container, trainer() if trainer else None)

    info = with_container(settings, go)
    console.print(f"model {escape(info.version)} trained on {info.rows} events")


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the mode, the model in use (or why there is none) and the events by action."""
    from payledger.bootstrap import risk

    settings = settings_from(ctx)
    setup_logging(settings, stderr=False)
    scorer_of: Callable[[Container], Any] = (ctx.obj or {}).get("risk_scorer", risk.scorer)

    async def go(container: Container) -> None:
        console.print(f"mode: {container.settings.risk.mode}")
        if risk.risk_enabled(container.settings):
            scorer = scorer_of(container)
            console.print(f"model: {escape(scorer.model_version or 'none (rules only)')}")
            if scorer.model_problem:
                console.print(f"model problem: {escape(scorer.model_problem)}")
        counts = await risk.risk_store(container).counts_by_action()
        table = Table("action", "events")
        for action in ("allow", "alert", "review"):
            table.add_row(action, str(counts.get(action, 0)))
        console.print(table)
        pending = await risk.review_queue(container).items()
        console.print(f"waiting for review: {len(pending)}")

    with_container(settings, go)
