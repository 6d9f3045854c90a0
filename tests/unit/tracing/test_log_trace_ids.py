"""Log lines written inside a recording span carry its trace and span ids; others do not."""

from __future__ import annotations

import json

import structlog

from payledger import tracing
from tests.tracing_spans import recorded_spans


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_line_logged_inside_a_span_names_its_trace_and_span(log_file):
    log = structlog.get_logger("test")
    log.info("before")
    with recorded_spans() as exported, tracing.span("job demo"):
        log.info("inside")
    log.info("after")

    before, inside, after = lines(log_file)
    (span,) = exported.get_finished_spans()
    assert inside["trace_id"] == format(span.context.trace_id, "032x")
    assert inside["span_id"] == format(span.context.span_id, "016x")
    assert "trace_id" not in before and "trace_id" not in after


def test_with_no_provider_installed_no_ids_are_added(log_file):
    with tracing.span("no-op"):
        structlog.get_logger("test").info("untraced")

    (line,) = lines(log_file)
    assert "trace_id" not in line and "span_id" not in line
