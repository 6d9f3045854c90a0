"""The payment journals payledger opened, and (``after_review``) approving one to be posted."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap.journals import journal_book, post_mode, request_post
from payledger.domain.posting import PostMode
from payledger.web.console.access import (
    ConsoleProblem,
    OperatorDep,
    ViewerDep,
    check_csrf,
)
from payledger.web.console.ids import shown
from payledger.web.console.render import console_base, page
from payledger.web.deps import ContainerDep

router = APIRouter()

JOURNALS_SHOWN = 100


@router.get("/journals")
async def journals_page(
    request: Request, user: ViewerDep, container: ContainerDep, done: str = ""
) -> Response:
    """The latest journals with their lines, state and last error."""
    shown_journals = await journal_book(container).overview(limit=JOURNALS_SHOWN)
    context = {
        "journals": shown_journals,
        "mode": post_mode(container).value,
        "reviewing": post_mode(container) is PostMode.AFTER_REVIEW,
        "now": container.clock.now(),
        "done": done[:200],
    }
    return page(request, "journals.html", context)


@router.post("/journals/approve")
async def approve(
    request: Request,
    user: OperatorDep,
    container: ContainerDep,
    csrf: Annotated[str, Form()] = "",
    batch_number: Annotated[str, Form()] = "",
) -> Response:
    """Approve a journal for posting (``after_review``); the worker posts it once ready."""
    check_csrf(user, csrf)
    if post_mode(container) is not PostMode.AFTER_REVIEW:
        raise ConsoleProblem(
            409,
            "Nothing to approve",
            f'journals are approved only when [posting] post = "after_review" '
            f"(it is {post_mode(container).value!r})",
        )
    journal = await request_post(container, batch_number[:20], f"console:{user.name}")
    if journal is None:
        raise ConsoleProblem(404, "No such journal", f"there is no journal {shown(batch_number)}")
    done = f"journal {journal.batch_number} approved: it is posted once closed and balanced"
    target = f"{console_base(request)}/journals?{urlencode({'done': done})}"
    return RedirectResponse(target, status_code=303)
