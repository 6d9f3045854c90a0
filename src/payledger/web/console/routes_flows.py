"""The flows, read-only: each one drawn from the job table and the templates in force."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from payledger.bootstrap.flow_map import flow_views
from payledger.domain.errors import ConfigError
from payledger.mapping import TemplateError
from payledger.web.console.access import ConsoleProblem, ViewerDep
from payledger.web.console.flow_svg import diagram
from payledger.web.console.render import page
from payledger.web.deps import ContainerDep

router = APIRouter()


@router.get("/flows")
async def flows_page(request: Request, user: ViewerDep, container: ContainerDep) -> Response:
    """Every flow as a diagram: what starts it, its job kinds, the templates they map with
    (and the version active) and the D365 and PayTrace entities they read and write."""
    try:
        views = await flow_views(container)
    except (TemplateError, ConfigError) as exc:
        raise ConsoleProblem(503, "The templates in force cannot be read", str(exc)) from None
    return page(request, "flows.html", {"diagrams": [diagram(view) for view in views]})
