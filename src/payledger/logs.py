"""Structured logging: JSON lines with correlation ids, with card numbers and secrets redacted.

The redaction runs twice: as a structlog processor on payledger's own events (masking secret
fields by name), and on the final text of every handler, so it also covers third-party
libraries that log through ``logging`` (httpx, uvicorn, sqlalchemy) and exception tracebacks.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

from payledger.domain.card_data import redact_card_numbers

SECRET_KEYS = frozenset(
    {"password", "client_secret", "secret", "token", "access_token", "authorization",
     "api_key", "master_key", "value"}
)  # fmt: skip


def redact(value: Any) -> Any:
    """``value`` with card numbers masked, recursively through dicts and lists."""
    if isinstance(value, str):
        return redact_card_numbers(value)
    if isinstance(value, dict):
        return {
            k: "[redacted]" if k.lower() in SECRET_KEYS else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_processor(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask card numbers and secret-named keys in every field."""
    for key in list(event):
        event[key] = "[redacted]" if key.lower() in SECRET_KEYS else redact(event[key])
    return event


def add_trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: ``trace_id`` and ``span_id`` of the span recording now, if any.

    OpenTelemetry is looked up, not imported: a process that never loaded it (tracing off,
    no engine) has no span, and its log lines pay a dictionary look-up.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return event
    span = trace.get_current_span()
    if span.is_recording():
        context = span.get_span_context()
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


class RedactingFormatter(logging.Formatter):
    """Redacts whatever a handler renders, tracebacks included, from any library."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact_card_numbers(self.inner.format(record))


def renders_json(fmt: str, stream: TextIO) -> bool:
    """Whether lines on ``stream`` are JSON: ``auto`` means yes unless a person watches it."""
    if fmt == "auto":
        return not stream.isatty()
    return fmt == "json"


def configure_logging(
    level: str = "INFO", fmt: str = "auto", file: Path | None = None, *, stderr: bool = True
) -> None:
    """Route structlog and stdlib logging through one redacting pipeline (stderr and/or a file).

    ``fmt`` is the format on stderr (``json``, ``console`` or ``auto``); the file is JSON.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    structlog.configure(
        # Level first: an event below the level costs a comparison, not the whole chain.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    json_formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    console_formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_payledger", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = []
    if stderr:
        stream = logging.StreamHandler(sys.stderr)
        json_on_stderr = renders_json(fmt, sys.stderr)
        stream.setFormatter(
            RedactingFormatter(json_formatter if json_on_stderr else console_formatter)
        )
        handlers.append(stream)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.handlers.WatchedFileHandler(file, encoding="utf-8")
        to_file.setFormatter(RedactingFormatter(json_formatter))
        handlers.append(to_file)
    for handler in handlers:
        handler._payledger = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
