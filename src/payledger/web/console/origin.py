"""Console forms are only accepted from the console's own pages: the browser says where from.

Browsers send ``Origin`` with every form post and, over https or to the local machine,
``Sec-Fetch-Site``; neither can be set by a page's scripts. A state-changing request under
``/console`` (any method but GET, HEAD and OPTIONS, sign-in included) is refused with 403 when
``Sec-Fetch-Site`` is present and is not ``same-origin``, when ``Origin`` is present and is not
the console's own origin, or when either is sent twice. A request with neither (curl, old
browsers) is left to the CSRF token every console form carries.

The console's own origin is the scheme and ``Host`` of the request, and ``[service]
public_origin`` when set, for a proxy that serves the console under another address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from payledger.web.console.access import ConsoleProblem
from payledger.web.deps import ContainerDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SHOWN = 100
"""At most this much of a refused header is quoted back."""


def normal_origin(text: str) -> str | None:
    """``scheme://host:port`` with the port spelled out, or None if ``text`` is no origin."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}:{port or _DEFAULT_PORTS[scheme]}"


def own_origins(request: Request, public_origin: str) -> set[str]:
    """The origins the console's own pages are served from."""
    candidates = (f"{request.url.scheme}://{request.url.netloc}", public_origin)
    return {origin for text in candidates if text and (origin := normal_origin(text))}


def refusal(origins: list[str], fetch_sites: list[str], own: set[str]) -> str | None:
    """Why a state-changing request with these headers is not the console's own, if it is not."""
    if len(origins) > 1 or len(fetch_sites) > 1:
        return "the request carries more than one Origin or Sec-Fetch-Site header"
    if fetch_sites and fetch_sites[0].strip().lower() != "same-origin":
        return (
            f"the browser says this request came from a {fetch_sites[0][:_SHOWN]!r} page, "
            "not from the console itself"
        )
    if origins and normal_origin(origins[0]) not in own:
        return (
            f"this request was sent from {origins[0][:_SHOWN]!r}, not from the console's own "
            f"address ({', '.join(sorted(own)) or 'unknown'}); behind a proxy, set [service] "
            "public_origin to the address browsers use"
        )
    return None


async def same_origin_only(request: Request, container: ContainerDep) -> None:
    """Refuse a state-changing console request that another site's page made the browser send."""
    if request.method in SAFE_METHODS:
        return
    own = own_origins(request, container.settings.service.public_origin)
    reason = refusal(
        request.headers.getlist("origin"), request.headers.getlist("sec-fetch-site"), own
    )
    if reason is not None:
        raise ConsoleProblem(403, "Request from another site refused", reason)
