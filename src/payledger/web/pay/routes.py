"""``GET /pay/<token>`` shows the page; ``POST`` replaces the card and retries the charge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
import structlog
from fastapi import APIRouter, Form, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from payledger.bootstrap import Container
from payledger.bootstrap.dunning_notices import card_update_ports, link_key, protect_client_key
from payledger.domain.card_links import form_token
from payledger.domain.charges import ProtectCard
from payledger.domain.errors import PayLedgerError
from payledger.flows.card_update import (
    CardPage,
    LinkRefused,
    Outcome,
    Problem,
    Result,
    open_page,
    update_card,
)
from payledger.notices import format_money
from payledger.web.deps import ContainerDep

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/pay", include_in_schema=False)
STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)

PROBLEMS: dict[Problem, tuple[int, str, str]] = {
    Problem.INVALID: (400, "This link is not valid", "It may have been copied incompletely."),
    Problem.EXPIRED: (410, "This link has expired", "Use the link in the latest e-mail."),
    Problem.USED: (410, "This link was already used", "Each link works once."),
    Problem.CLOSED: (410, "Nothing to pay here", "This payment needs no new card any more."),
    Problem.TOO_MANY: (429, "Too many attempts", "This link is closed after too many tries."),
    Problem.FORGED: (403, "This form has expired", "Open the link from the e-mail again."),
    Problem.BUSY: (409, "Your card is being saved", "Wait a moment, then reload this page."),
    Problem.UNAVAILABLE: (503, "Please try again later", "Our payment processor is not reachable."),
}


def _headers(container: Container) -> dict[str, str]:
    script = urlsplit(container.settings.dunning.notices.protect_script_url)
    protect = f"{script.scheme}://{script.netloc}"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self' {protect}; frame-src {protect}; "
            f"connect-src {protect}; style-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the link token is in the address
        "Cache-Control": "no-store",
    }


def _render(
    request: Request, container: Container, name: str, values: dict[str, Any], status: int = 200
) -> Response:
    return templates.TemplateResponse(
        request, name, values, status_code=status, headers=_headers(container)
    )


def _problem(request: Request, container: Container, problem: Problem) -> Response:
    status, title, detail = PROBLEMS[problem]
    values = {"title": title, "detail": detail}
    return _render(request, container, "problem.html", values, status)


async def _form(
    request: Request,
    container: Container,
    token: str,
    shown: CardPage,
    error: str = "",
    status: int = 200,
) -> Response:
    values = {
        "title": "Update your payment card",
        "invoice": shown.invoice_number,
        "amount": format_money(shown.amount, "en"),
        "merchant": shown.merchant,
        "form": form_token(token, await link_key(container)),
        "client_key": await protect_client_key(container),
        "protect_script": container.settings.dunning.notices.protect_script_url,
        "error": error,
    }
    return _render(request, container, "card.html", values, status)


@router.get("/{token}")
async def show_card_page(request: Request, token: str, container: ContainerDep) -> Response:
    """The card-update form of a link, or a page saying why the link cannot be used."""
    ports = await card_update_ports(container)
    try:
        shown = await open_page(token, ports)
        return await _form(request, container, token, shown)
    except LinkRefused as refused:
        return _problem(request, container, refused.problem)
    except PayLedgerError:
        return _problem(request, container, Problem.UNAVAILABLE)


@router.post("/{token}")
async def submit_card(
    request: Request,
    token: str,
    container: ContainerDep,
    form: Annotated[str, Form()] = "",
    hpf_token: Annotated[str, Form()] = "",
    enc_key: Annotated[str, Form()] = "",
) -> Response:
    """Keep the Protect-captured card on file, retry the charge, and say how it went."""
    ports = await card_update_ports(container)
    try:
        if not (hpf_token and enc_key):
            shown = await open_page(token, ports)
            error = "The card details did not reach PayTrace; enter them again."
            return await _form(request, container, token, shown, error, 422)
        outcome = await update_card(token, form, ProtectCard(hpf_token, enc_key), ports)
        if outcome.result is Result.CARD_REFUSED:
            shown = await open_page(token, ports)
            error = f"PayTrace did not accept this card: {outcome.reason}."
            return await _form(request, container, token, shown, error, 422)
        return _outcome(request, container, outcome)
    except LinkRefused as refused:
        return _problem(request, container, refused.problem)
    except PayLedgerError:
        return _problem(request, container, Problem.UNAVAILABLE)


def _outcome(request: Request, container: Container, outcome: Outcome) -> Response:
    titles = {
        Result.PAID: "Thank you: your payment went through",
        Result.DECLINED: "Your card was saved, but the payment was declined",
        Result.PENDING: "Your card was saved",
    }
    values = {"title": titles[outcome.result], "result": outcome.result.value}
    values["reason"] = outcome.reason
    return _render(request, container, "outcome.html", values)
