"""What leaves the process: only allow-listed attributes, with card numbers and secrets
masked even where a span was given them by mistake."""

from __future__ import annotations

from opentelemetry.trace import Status, StatusCode

from payledger import tracing
from payledger.sandbox.paytrace.demo import TEST_CARD_NUMBERS
from payledger.tracing.http import path_template
from tests.tracing_spans import attributes, everything_exported, recorded_spans

PAN = TEST_CARD_NUMBERS[0]


def test_attributes_outside_the_allow_list_never_reach_the_exporter():
    with recorded_spans() as exported, tracing.tracer().start_as_current_span("leaky") as span:
        span.set_attribute("http.request.body", f'{{"cc": "{PAN}", "csc": "7391"}}')
        span.set_attribute("password", "hunter2-secret")
        span.set_attribute("http.request.method", "POST")

    (span,) = exported.get_finished_spans()
    assert attributes(span) == {"http.request.method": "POST"}
    text = everything_exported([span])
    assert PAN not in text and "7391" not in text and "hunter2" not in text


def test_card_numbers_and_secret_looking_text_are_masked_in_allowed_places():
    tracer = tracing.tracer
    with recorded_spans() as exported, tracer().start_as_current_span(f"GET /cards/{PAN}") as span:
        span.set_attribute("url.template", f"/v1/{PAN}?token=abc123secret")
        span.set_attribute("error.type", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
        span.add_event("retry", {"url.template": f"/x/{PAN}", "body": PAN})
        span.set_status(Status(StatusCode.ERROR, f"declined {PAN} password=hunter2"))

    (span,) = exported.get_finished_spans()
    text = everything_exported([span])
    assert PAN not in text
    assert "abc123secret" not in text and "eyJhbGci" not in text and "hunter2" not in text
    assert PAN[-4:] in span.name  # masked to its last four, as in the logs
    assert attributes(span)["error.type"] == "[redacted]"
    assert dict(span.events[0].attributes or {}) == {"url.template": f"/x/[card ****{PAN[-4:]}]"}


def test_a_failed_span_says_the_error_type_not_its_message():
    with recorded_spans() as exported:
        try:
            with tracing.span("job demo"):
                raise ValueError(f"card {PAN} refused")
        except ValueError:
            pass

    (span,) = exported.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {"error.type": "ValueError"}
    assert list(span.events) == []  # no exception event, whose message could hold anything
    assert PAN[-4:] not in everything_exported([span])


def test_path_templates_hide_keys_and_ids():
    assert path_template("/v1/transactions/sale/keyed") == "/v1/transactions/sale/keyed"
    assert (
        path_template("/data/CustomerPaymentJournalLines(dataAreaId='usmf',LineNumber=1.0)")
        == "/data/CustomerPaymentJournalLines({key})"
    )
    assert (
        path_template("/8f2c4a51-1b7e-4c8e-9d3a-0c5e2b7a9f10/oauth2/v2.0/token")
        == "/{id}/oauth2/v2.0/token"
    )
    assert path_template(f"/cards/{PAN}") == "/cards/{id}"
