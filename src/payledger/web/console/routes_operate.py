"""Dead letters with replay, and the mapping preview."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap import Container
from payledger.domain.codec import payment_from_dict
from payledger.domain.errors import ConfigError, PayLedgerError
from payledger.mapping import (
    TemplateError,
    compile_template,
    dumps,
    loads,
    preview,
)
from payledger.mapping.samples import sample_document, sample_problems
from payledger.stores.postings import replay_dead_postings
from payledger.views.overview import overview
from payledger.views.posted_documents import posted_document
from payledger.web.console.access import (
    ConsoleProblem,
    OperatorDep,
    ViewerDep,
    check_csrf,
)
from payledger.web.console.ids import row_id, shown
from payledger.web.console.render import console_base, page
from payledger.web.deps import ContainerDep

router = APIRouter()

DEAD_LETTERS_SHOWN = 200


@router.get("/dead-letters")
async def dead_letters(
    request: Request, user: ViewerDep, container: ContainerDep, done: str = ""
) -> Response:
    """Dead jobs and dead postings, newest first, each with a Replay button."""
    seen = await overview(container.database, dead_limit=DEAD_LETTERS_SHOWN)
    context = {"jobs": seen.dead_jobs, "postings": seen.dead_postings, "done": done[:200]}
    return page(request, "dead_letters.html", context)


@router.post("/dead-letters/replay")
async def replay(
    request: Request,
    user: OperatorDep,
    container: ContainerDep,
    csrf: Annotated[str, Form()] = "",
    job_id: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    """Return one dead job or dead posting to work, as ``payledger replay`` does (audited)."""
    check_csrf(user, csrf)
    actor = f"console:{user.name}"
    if job_id and not reference:
        job = row_id(job_id)
        if job is None:
            raise ConsoleProblem(404, "No such job", f"there is no job {shown(job_id)}")
        count = await container.queue.replay(actor=actor, ids=[job])
        what = f"job {job}"
    elif reference and not job_id:
        count = await replay_dead_postings(container.queue, actor=actor, references=[reference])
        what = f"posting {reference}"
    else:
        raise ConsoleProblem(400, "Nothing to replay", "say which dead job or posting to replay")
    done = f"replayed {what}" if count else f"{what} is no longer dead: nothing replayed"
    target = f"{console_base(request)}/dead-letters?{urlencode({'done': done})}"
    return RedirectResponse(target, status_code=303)


def _templates_in_force(container: Container) -> tuple[dict[str, Any], str]:
    try:
        return dict(container.templates()), ""
    except (TemplateError, ConfigError) as exc:
        return {}, str(exc)


async def _sample_of_event(container: Container, given: str) -> str:
    inbox_id = row_id(given)
    event = None
    if inbox_id is not None:
        async with container.database.transaction() as conn:
            event = await container.inbox.get(conn, inbox_id)
    if inbox_id is None or event is None:
        raise ConsoleProblem(404, "No such event", f"inbox event {shown(given)} does not exist")
    try:
        payment = payment_from_dict(event["payload"])
    except (KeyError, TypeError, ValueError):
        raise ConsoleProblem(
            400, "Not a payment", f"inbox event {inbox_id} does not hold a payment"
        ) from None
    document = await posted_document(container.database, inbox_id, payment)
    return dumps(document, indent=2)


@router.get("/mapping")
async def mapping_form(
    request: Request,
    user: ViewerDep,
    container: ContainerDep,
    template: str = "",
    event: str = "",
) -> Response:
    """Choose a template in force and a sample (pasted, or a stored payment event)."""
    templates, problem = _templates_in_force(container)
    sample = await _sample_of_event(container, event) if event else ""
    context = {
        "templates": sorted(templates),
        "chosen": template,
        "sample": sample,
        "problem": problem,
        "result": None,
    }
    return page(request, "mapping.html", context)


@router.post("/mapping")
async def mapping_preview(
    request: Request,
    user: ViewerDep,
    container: ContainerDep,
    csrf: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
    sample: Annotated[str, Form()] = "",
) -> Response:
    """Map the sample with the template: the payload and where every field came from."""
    check_csrf(user, csrf)
    templates, problem = _templates_in_force(container)
    context: dict[str, Any] = {
        "templates": sorted(templates),
        "chosen": template,
        "sample": sample,
        "problem": problem,
        "result": None,
        "errors": [],
        "warnings": [],
    }
    if template not in templates:
        context["errors"] = [f"no template {template!r} in force"]
        return page(request, "mapping.html", context, status_code=422)
    try:
        document = sample_document(loads(sample))
    except ValueError as exc:
        context["errors"] = [f"the sample is not valid JSON: {exc}"]
        return page(request, "mapping.html", context, status_code=422)
    if not isinstance(document, dict):
        context["errors"] = ["the sample must be a JSON object (the source document)"]
        return page(request, "mapping.html", context, status_code=422)
    problems, unknown = sample_problems(document)
    try:
        compiled = compile_template(templates[template], container.template_settings())
    except (TemplateError, PayLedgerError) as exc:
        context["errors"] = [str(exc)]
        return page(request, "mapping.html", context, status_code=422)
    result = preview(compiled, document)
    context["result"] = result
    context["payload"] = dumps(result.payload, indent=2)
    context["errors"] = problems + [f"field {line.field}: {line.error}" for line in result.errors]
    context["warnings"] = [f"sample field {path} is not read by templates" for path in unknown]
    return page(request, "mapping.html", context)
