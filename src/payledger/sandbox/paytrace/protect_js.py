"""Protect.js, emulated: hosted card fields in a frame served by PayTrace, so the merchant's
page (payledger's card-update page) never sees a card number.

``GET /js/protect.min.js`` defines ``PTPayment`` as a page uses it (``setup({authorization:
{clientKey}})`` puts the fields in ``#pt_hpf_form``; ``process()`` resolves to ``{message:
{hpf_token, enc_key}}``). The fields live in ``/js/protect-fields.html`` (this origin); on
``process()`` they post the card here (``/js/hpf``), where it is sealed with the sandbox's
Protect key (:func:`~payledger.sandbox.paytrace.protect.protect_nonce`) into the token and key
``/v1/transactions/sale/pt_protect`` and ``/v1/customer/update/pt_protect`` open. The real
script lives at ``https://protect.paytrace.com/js/protect.min.js``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from payledger.sandbox.paytrace import protect
from payledger.sandbox.paytrace.service import PayTraceSandbox

router = APIRouter(prefix="/js", include_in_schema=False)

_SCRIPT = """(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  var frame = null;
  var waiting = null;
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !waiting) { return; }
    var done = waiting;
    waiting = null;
    var data = event.data || {};
    if (data.hpf_token) {
      done.resolve({message: {hpf_token: data.hpf_token, enc_key: data.enc_key}});
    } else {
      done.reject({reason: data.error || "the card could not be read"});
    }
  });
  window.PTPayment = {
    setup: function (options) {
      var key = (options && options.authorization && options.authorization.clientKey) || "";
      frame = document.createElement("iframe");
      frame.src = origin + "/js/protect-fields.html?client_key=" + encodeURIComponent(key);
      frame.title = "Card details (PayTrace)";
      frame.id = "pt_hpf_frame";
      frame.style.border = "0";
      frame.style.width = "100%";
      frame.style.height = "17rem";
      document.getElementById("pt_hpf_form").appendChild(frame);
      return new Promise(function (resolve) {
        frame.addEventListener("load", function () { resolve({}); });
      });
    },
    validate: function (callback) { callback([]); },
    process: function () {
      return new Promise(function (resolve, reject) {
        waiting = {resolve: resolve, reject: reject};
        frame.contentWindow.postMessage({type: "pt-process"}, origin);
      });
    }
  };
})();
"""

_FIELDS = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Card details</title>
<style>
body { font: 1rem/1.4 Arial, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
label { display: block; margin-top: 0.6rem; font-weight: bold; }
input { font-size: 1rem; padding: 0.4rem; border: 1px solid #555; color: #1a1a1a; }
input:focus { outline: 3px solid #0b4f9c; outline-offset: 2px; }
</style></head>
<body>
<label for="pt_number">Card number</label>
<input id="pt_number" inputmode="numeric" autocomplete="cc-number" size="22">
<label for="pt_month">Expiry month (MM)</label>
<input id="pt_month" inputmode="numeric" autocomplete="cc-exp-month" size="3">
<label for="pt_year">Expiry year (YYYY)</label>
<input id="pt_year" inputmode="numeric" autocomplete="cc-exp-year" size="5">
<label for="pt_csc">Security code</label>
<input id="pt_csc" inputmode="numeric" autocomplete="cc-csc" size="5">
<script>
function value(id) { return document.getElementById(id).value.replace(/\\s+/g, ""); }
window.addEventListener("message", function (event) {
  if (!event.data || event.data.type !== "pt-process") { return; }
  var page = event.source, target = event.origin;
  fetch("hpf", {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify({
      number: value("pt_number"), expiration_month: value("pt_month"),
      expiration_year: value("pt_year"), csc: value("pt_csc")
    })
  }).then(function (reply) { return reply.json(); })
    .then(function (body) { page.postMessage(body, target); })
    .catch(function () { page.postMessage({error: "PayTrace could not be reached"}, target); });
});
</script>
</body>
</html>
"""


class HostedCard(BaseModel):
    number: str
    expiration_month: str = ""
    expiration_year: str = ""
    csc: str = ""


def _sandbox(request: Request) -> PayTraceSandbox:
    sandbox: PayTraceSandbox = request.app.state.sandbox
    return sandbox


@router.get("/protect.min.js")
def script() -> Response:
    return Response(_SCRIPT, media_type="text/javascript")


@router.get("/protect-fields.html")
def fields() -> HTMLResponse:
    return HTMLResponse(_FIELDS)


@router.post("/hpf")
def seal(card: HostedCard, sandbox: Annotated[PayTraceSandbox, Depends(_sandbox)]) -> JSONResponse:
    """The card sealed into a one-time ``hpf_token`` + ``enc_key``."""
    if not card.number:
        return JSONResponse({"error": "enter the card number"}, status_code=422)
    nonce = protect.protect_nonce(
        card.number,
        card.expiration_month,
        card.expiration_year,
        card.csc,
        sandbox.settings.protect_key,
    )
    return JSONResponse({"hpf_token": nonce.hpf_token, "enc_key": nonce.enc_key})
