"""Rendering console pages: Jinja2 with autoescape, and card numbers masked in every value.

Every ``{{ value }}`` is escaped for HTML and, before that, passed through the card-number
redactor: the stores never hold card data, and this makes sure no page could show any even
if a vendor's message or an error text carried a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from payledger.domain.card_data import redact_card_numbers
from payledger.mapping import dumps
from payledger.stores.api_clients import Role
from payledger.web.console.nav import menu

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Sent with every console page: no scripts at all, no framing, nothing cached, no address
told to other sites. (``no-referrer`` would make browsers send ``Origin: null`` with the
console's own forms, which the origin check must refuse.)"""


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return redact_card_numbers(value)
    return value


def when(value: datetime | str | None) -> str:
    """A timestamp as UTC to the second."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    if seconds is None:
        return ""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    environment.filters["age"] = age
    environment.filters["json"] = lambda value: "" if value is None else dumps(value)
    environment.filters["segment"] = lambda value: quote(str(value), safe="")
    environment.globals["Role"] = Role
    return environment


templates = Jinja2Templates(env=_environment())


def console_base(request: Request) -> str:
    """Where the console is mounted, as links must name it (a proxy may add a root path)."""
    return f"{request.scope.get('root_path', '')}/console"


def page(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A console page from ``templates/name`` with the security headers."""
    user = getattr(request.state, "console_user", None)
    values = {
        "base": console_base(request),
        "user": user,
        "menu": menu(user.role) if user is not None else [],
        **(context or {}),
    }
    return templates.TemplateResponse(
        request,
        name,
        values,
        status_code=status_code,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
