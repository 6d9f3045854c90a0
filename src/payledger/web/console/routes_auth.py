"""Signing in to the console with an API token, and signing out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from payledger.web.console.access import (
    ViewerDep,
    check_csrf,
    session_key,
    sign_in,
    sign_out,
)
from payledger.web.console.render import console_base, page
from payledger.web.console.session import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    encode_session,
    same_token,
)
from payledger.web.deps import ContainerDep

router = APIRouter()


def _set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def _safe_next(request: Request, target: str) -> str:
    """Only a path inside the console: never another site."""
    base = console_base(request)
    if target.startswith(f"{base}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{base}/"


_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def _cookies_dropped(request: Request) -> bool:
    """Browsers keep Secure cookies over plain http only for the local machine."""
    host = request.url.hostname or ""
    return request.url.scheme == "http" and host not in _LOOPBACK and not host.startswith("127.")


def _login_page(
    request: Request, *, error: str = "", next_path: str = "", status: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        {
            "nonce": nonce,
            "error": error,
            "next_path": next_path,
            "plain_http": _cookies_dropped(request),
        },
        status_code=status,
    )
    _set_cookie(response, LOGIN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "") -> Response:
    """The sign-in page."""
    return _login_page(request, next_path=next)


@router.post("/login")
async def login(
    request: Request,
    container: ContainerDep,
    token: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the token; on success open a session and go where the operator was headed."""
    if not same_token(nonce, request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(
            request,
            error="The sign-in form expired. Please paste your token again.",
            next_path=next,
            status=400,
        )
    session_id = await sign_in(container, token) if token.strip() else None
    if session_id is None:
        return _login_page(
            request,
            error="Sign-in refused: that token is unknown, revoked or expired, or has no console "
            "role (it needs the read, operate, map or admin scope).",
            next_path=next,
            status=401,
        )
    await sign_out(container, request.cookies.get(SESSION_COOKIE, ""))  # one session at a time
    response = RedirectResponse(_safe_next(request, next), status_code=303)
    cookie = encode_session(session_id, await session_key(container))
    _set_cookie(response, SESSION_COOKIE, cookie, max_age=int(SESSION_LIFETIME.total_seconds()))
    _set_cookie(response, LOGIN_COOKIE, "", max_age=0)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    user: ViewerDep,
    container: ContainerDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """End the session on the server, so its cookie is refused even if it is sent again."""
    check_csrf(user, csrf)
    await sign_out(container, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(f"{console_base(request)}/login", status_code=303)
    _set_cookie(response, SESSION_COOKIE, "", max_age=0)
    return response
