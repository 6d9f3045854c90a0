"""The template gate of start-up: ``serve``, ``worker`` and the demo refuse broken templates.

It lives with the doctor because it is the doctor's validate phase (:func:`template_issues`,
shared with ``payledger mapping check``) turned into a stop, and like it needs the container
for the live ``$metadata``; ``payledger.templates`` sits below the container and stays free
of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from payledger.doctor.validate import template_issues
from payledger.domain.errors import ConfigError, ConnectorError

if TYPE_CHECKING:
    from payledger.bootstrap import Container

log = structlog.get_logger(__name__)


async def require_valid_templates(container: Container) -> None:
    """Stop start-up when a template is broken: better no service than wrong postings.

    When D365 cannot be reached the templates are checked offline (start-up does not wait
    for an outage to end); the online check runs again with ``payledger mapping check``.

    Raises:
        ConfigError: naming every template, field and reason found.
    """
    try:
        issues = await template_issues(container)
    except ConnectorError as exc:
        log.warning("mapping.check_offline", reason=str(exc))
        issues = await template_issues(container, offline=True)
    if issues:
        listed = "; ".join(f"{i.template}.{i.field}: {i.reason}" for i in issues)
        raise ConfigError(f"{len(issues)} mapping problem(s) stop start-up: {listed}")
