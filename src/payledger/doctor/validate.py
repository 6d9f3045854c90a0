"""The validate phase: may the mapping templates in force run?

Templates are validated against the live D365 ``$metadata`` and the configured PayTrace
discretionary titles, or offline against the PayTrace targets only. ``payledger doctor``,
``payledger mapping check`` and the start-up gate share :func:`template_issues`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payledger.config import Settings
from payledger.doctor.report import VALIDATE, Finding, attempt, fail, ok
from payledger.domain.errors import ConfigError
from payledger.mapping import (
    Issue,
    Template,
    TemplateError,
    load_template_file,
    title_issues,
    validate_templates,
)
from payledger.templates import load_templates, offline_catalog

if TYPE_CHECKING:
    from payledger.bootstrap import Container


def _templates_in_force(settings: Settings) -> tuple[list[Template], list[Issue]]:
    try:
        return list(load_templates(settings).values()), []
    except TemplateError as first:
        folder = settings.mapping.templates_dir
        issues = []
        for path in sorted(folder.glob("*.y*ml")) if folder else []:
            try:
                load_template_file(path)
            except TemplateError as exc:
                issues.append(exc.issue)
        return [], issues or [first.issue]
    except ConfigError as exc:
        return [], [Issue("[mapping]", "templates_dir", str(exc))]


async def template_issues(container: Container, *, offline: bool | None = None) -> list[Issue]:
    """Every problem of the templates in force (empty when they may run).

    ``offline`` (default: when ``[d365]`` is not enabled) skips D365: structure, source paths,
    transforms, settings and the PayTrace targets are still checked.

    Raises:
        ConnectorError: D365 could not be read (online only).
    """
    settings = container.settings
    templates, issues = _templates_in_force(settings)
    titles = settings.paytrace.discretionary_titles
    for problem in title_issues("[paytrace]", titles):
        issues.append(Issue("[paytrace]", "discretionary_titles", problem.reason))
    if not templates:
        return issues
    if offline is None:
        offline = not settings.d365.enabled
    catalog = offline_catalog(settings) if offline else await container.schema_catalog()
    in_force = container.templates().values()  # the seeds, or the active saved versions
    return issues + validate_templates(in_force, catalog, container.template_settings())


async def validate_mapping(container: Container, *, offline: bool) -> Finding:
    """The templates in force, against D365 ``$metadata`` unless ``offline``."""
    name = "mapping templates"
    issues = await attempt(lambda: template_issues(container, offline=offline))
    if isinstance(issues, Exception):
        return fail(VALIDATE, name, str(issues), "run `payledger mapping check --offline`")
    if issues:
        return fail(
            VALIDATE,
            name,
            f"{len(issues)} issue(s), first: {issues[0]}",
            "run `payledger mapping check` for the list; fix the template in "
            "[mapping] templates_dir or the setting it reads",
        )
    against = "the PayTrace setup" + (
        " (offline: D365 entities not checked)" if offline else " and D365 $metadata"
    )
    return ok(VALIDATE, name, f"{len(container.templates())} templates valid against {against}")
