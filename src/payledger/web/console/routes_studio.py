"""The mapping studio: edit a template against the live ``$metadata``, preview it on stored
payment events, save versions, activate and roll back (docs/mapping.md, "Studio").

Anyone signed in may look; editing, saving, activating and rolling back need the mapper role.
The editor is one plain form holding the whole draft, so it works without scripts and a
refused save leaves the person's text on the page. The version store audits every save,
activation and rollback.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from payledger.bootstrap import Container
from payledger.mapping import TRANSFORMS, Template
from payledger.mapping.engine import resolve_entity
from payledger.mapping.suggest_fields import KnownMappings, source_fields
from payledger.stores.template_versions import (
    InvalidTemplateVersion,
    UnknownTemplateVersion,
    VersionConflict,
)
from payledger.web.console.access import ConsoleProblem, MapperDep, ViewerDep
from payledger.web.console.render import console_base, page
from payledger.web.console.routes_studio_draft import (
    MODES,
    FieldEdit,
    apply_edit,
    draft_template,
    fields_yaml,
    lint,
)
from payledger.web.console.routes_studio_view import (
    catalog_of,
    entity_of,
    extension_names,
    previews,
    source_rows,
    stored_events,
    target_rows,
)
from payledger.web.deps import ContainerDep

router = APIRouter()

PREVIEWED_BY_DEFAULT = 2


def _known(container: Container, name: str) -> Template:
    template = container.templates().get(name)
    if template is None:
        raise ConsoleProblem(404, "No such template", f"no template {name!r} is in force")
    return template


async def _editor(
    request: Request,
    container: Container,
    name: str,
    *,
    body: str,
    based_on: int,
    chosen: list[str] | None,
    edit: FieldEdit | None = None,
    edit_errors: list[str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    settings = container.template_settings()
    catalog = await catalog_of(container)
    issues = lint(name, body, catalog, settings)
    try:
        template: Template | None = draft_template(name, body)
    except InvalidTemplateVersion:
        template = None
    entity = entity_of(catalog, template or _known(container, name), settings)
    offered = await stored_events(container)
    wanted = (
        chosen if chosen is not None else [str(e.inbox_id) for e in offered][:PREVIEWED_BY_DEFAULT]
    )
    events = [event for event in offered if str(event.inbox_id) in wanted]
    sources = source_fields([event.document for event in offered])
    others = [t for other, t in container.templates().items() if other != name]
    store = container.template_versions()
    seed = store.seed(name)
    start = (await store.get(name, based_on)).body if based_on else seed.body
    context: dict[str, Any] = {
        "name": name,
        "body": body,
        "based_on": based_on,
        "entity": entity,
        "system": (template or _known(container, name)).target.system,
        "issues": issues,
        "targets": target_rows(
            entity,
            template,
            fields_yaml(body),
            issues,
            sources,
            KnownMappings.from_templates(others, settings),
            extensions=extension_names(container),
            settings=settings,
        )
        if entity
        else [],
        "sources": source_rows(sources),
        "offered": offered,
        "chosen": [str(event.inbox_id) for event in events],
        "previews": previews(template, events, settings),
        "edit": edit or FieldEdit(""),
        "modes": MODES,
        "transforms": [TRANSFORMS[key] for key in sorted(TRANSFORMS)],
        "edit_errors": edit_errors or [],
        "message": message,
        "changes": "".join(
            difflib.unified_diff(
                start.splitlines(keepends=True),
                body.splitlines(keepends=True),
                fromfile=f"{name}@{based_on or 'default'}",
                tofile=f"{name} (draft)",
            )
        ),
        "versions": await store.versions(name),
        "active": await store.active_version(name),
        "done": request.query_params.get("done", "")[:200],
    }
    return page(request, "studio_edit.html", context, status_code=status_code)


@router.get("/studio")
async def studio_index(
    request: Request, user: ViewerDep, container: ContainerDep, entity: str = ""
) -> Response:
    """Every template in force with its target and active version; filter by entity."""
    settings = container.template_settings()
    store = container.template_versions()
    active = await store.active()
    rows = []
    for name, template in sorted(container.templates().items()):
        target = resolve_entity(template, settings)
        if entity and target != entity:
            continue
        version = active[name].version if name in active else 0
        rows.append({"name": name, "system": template.target.system, "entity": target,
                     "active": version})  # fmt: skip
    entities = sorted({(t.target.system, resolve_entity(t, settings))
                       for t in container.templates().values()})  # fmt: skip
    context = {"rows": rows, "entities": entities, "entity": entity}
    return page(request, "studio.html", context)


@router.get("/studio/{name}")
async def studio_editor(
    request: Request,
    user: ViewerDep,
    container: ContainerDep,
    name: str,
    version: int | None = None,
    event: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The editor on the latest saved version (or ``version``), previewed on stored events."""
    _known(container, name)
    store = container.template_versions()
    latest = await store.latest(name)
    try:
        shown = latest if version is None else await store.get(name, version)
    except UnknownTemplateVersion as exc:
        raise ConsoleProblem(404, "No such version", str(exc)) from None
    return await _editor(
        request, container, name, body=shown.body, based_on=latest.version, chosen=event
    )


def _edit_from(form: Any) -> FieldEdit:
    mode = str(form.get("mode", "path"))
    return FieldEdit(
        target=str(form.get("target", "")).strip(),
        mode="jsonata" if mode == "jsonata" else "transform" if mode == "transform" else "path",
        path=str(form.get("path", "")),
        transform=str(form.get("transform", "")),
        params=str(form.get("params", "")),
        expression=str(form.get("expression", "")),
        optional=form.get("optional") == "yes",
    )


@router.post("/studio/{name}")
async def studio_change(
    request: Request, user: MapperDep, container: ContainerDep, name: str
) -> Response:
    """Apply a field edit, accept a suggestion, drop a field, re-check, or save the draft."""
    _known(container, name)
    form = await request.form()
    body = str(form.get("body", ""))
    based_on = _number(str(form.get("based_on", "")), "based_on")
    chosen = [str(value) for value in form.getlist("event")]
    action = str(form.get("action", "check"))
    accept, remove = str(form.get("accept", "")), str(form.get("remove", ""))
    show: dict[str, Any] = {"body": body, "based_on": based_on, "chosen": chosen}
    if action == "save":
        return await _save(
            request, container, user.name, name, str(form.get("comment", "")), **show
        )
    if accept or remove or action == "apply":
        if accept:
            target, _, source = accept.partition("=")
            edit = FieldEdit(target, "path", path=source)
        else:
            edit = _edit_from(form) if not remove else FieldEdit(remove)
        catalog, settings = await catalog_of(container), container.template_settings()
        changed, errors = apply_edit(name, body, edit, catalog, settings, drop=bool(remove))
        if errors:
            return await _editor(request, container, name, edit=edit, edit_errors=errors,
                                 status_code=422, **show)  # fmt: skip
        show["body"] = changed
        shown = FieldEdit(edit.target, edit.mode) if not remove else None
        return await _editor(request, container, name, edit=shown, **show)
    return await _editor(request, container, name, **show)


def _number(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise ConsoleProblem(400, f"Bad {what}", f"{what} must be a version number, got {text!r}")
    return int(text)


async def _save(
    request: Request,
    container: Container,
    author: str,
    name: str,
    comment: str,
    *,
    body: str,
    based_on: int,
    chosen: list[str],
) -> Response:
    show: dict[str, Any] = {"body": body, "based_on": based_on, "chosen": chosen}
    catalog = await catalog_of(container)
    issues = lint(name, body, catalog, container.template_settings())
    if not comment.strip():
        message = "Not saved: say in the comment what you changed and why"
        return await _editor(request, container, name, message=message, status_code=422, **show)
    if issues:
        message = f"Not saved: the draft has {len(issues)} problem(s) the check found (below)"
        return await _editor(request, container, name, message=message, status_code=422, **show)
    store = container.template_versions()
    try:
        saved = await store.save(
            name, body, author=f"console:{author}", based_on=based_on, comment=comment.strip()
        )
    except VersionConflict as exc:
        return await _editor(request, container, name, message=f"Not saved: {exc}",
                             status_code=409, **show)  # fmt: skip
    except (InvalidTemplateVersion, UnknownTemplateVersion) as exc:
        return await _editor(request, container, name, message=f"Not saved: {exc}",
                             status_code=422, **show)  # fmt: skip
    done = f"saved version {saved.version} (not active until you activate it)"
    return _back(request, name, done)


def _back(request: Request, name: str, done: str) -> Response:
    query = urlencode({"done": done})
    return RedirectResponse(f"{console_base(request)}/studio/{name}?{query}", status_code=303)


@router.post("/studio/{name}/activate")
async def studio_activate(
    request: Request,
    user: MapperDep,
    container: ContainerDep,
    name: str,
    version: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Put a saved version in force for new work, after the store validated it."""
    _known(container, name)
    number = _number(version, "version")
    try:
        await container.template_versions().activate(
            name, number, actor=f"console:{user.name}", catalog=await catalog_of(container),
            settings=container.template_settings(), comment=comment.strip(),
        )  # fmt: skip
    except InvalidTemplateVersion as exc:
        raise ConsoleProblem(422, "This version cannot be activated", str(exc)) from None
    except UnknownTemplateVersion as exc:
        raise ConsoleProblem(404, "No such version", str(exc)) from None
    await container.refresh_templates(force=True)
    return _back(request, name, f"activated version {number}")


@router.post("/studio/{name}/rollback")
async def studio_rollback(
    request: Request,
    user: MapperDep,
    container: ContainerDep,
    name: str,
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Undo the last activation: the version in force before it is active again."""
    _known(container, name)
    try:
        undone = await container.template_versions().rollback(
            name, actor=f"console:{user.name}", catalog=await catalog_of(container),
            settings=container.template_settings(), comment=comment.strip(),
        )  # fmt: skip
    except InvalidTemplateVersion as exc:
        raise ConsoleProblem(422, "The earlier version cannot be activated", str(exc)) from None
    except UnknownTemplateVersion as exc:
        raise ConsoleProblem(409, "Nothing to roll back", str(exc)) from None
    await container.refresh_templates(force=True)
    back_to = undone.version or "the default"
    return _back(request, name, f"rolled back: version {back_to} is in force again")


@router.get("/studio/{name}/diff")
async def studio_diff(
    request: Request, user: ViewerDep, container: ContainerDep, name: str, a: int = 0, b: int = 0
) -> Response:
    """A unified diff of two versions (0: the default)."""
    _known(container, name)
    try:
        text = await container.template_versions().diff(name, a, b)
    except UnknownTemplateVersion as exc:
        raise ConsoleProblem(404, "No such version", str(exc)) from None
    return page(request, "studio_diff.html", {"name": name, "a": a, "b": b, "diff": text})
