"""The customers' card-update page at ``/pay/<link token>``: no console session or cookie.

A dunning notice's signed, single-use link opens it; it shows the invoice, the amount due and
the merchant, and nothing else. The card is entered in PayTrace Protect's hosted fields, so
only Protect's one-time token and key are posted here (the inbound guard refuses any card
number anyway). The form carries an anti-forgery value derived from the link token.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from payledger.web.pay.routes import STATIC_DIR, router

PREFIX = "/pay"

__all__ = ["PREFIX", "install_pay"]


def install_pay(app: FastAPI) -> None:
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="pay-static")
    app.include_router(router)
