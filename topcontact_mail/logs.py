"""Structured logging: JSON lines off a terminal, readable colours on one, never a secret."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

#: Keys whose values are never written, whatever a caller passes.
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|credential|cookie|body", re.I)
_BEARER = re.compile(r"(Bearer|Basic|NTLM|Negotiate)\s+[A-Za-z0-9._~+/=-]+", re.I)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and _SECRET_KEYS.search(key):
            event[key] = "********"
        elif isinstance(event[key], str):
            event[key] = _BEARER.sub(r"\1 ********", event[key])
    return event


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog once per process; JSON when `stream` is not a terminal."""
    out = stream or sys.stderr
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if out.isatty()
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def get_logger(component: str, **context: Any) -> Any:
    """A logger whose every line carries the component (and any ids given)."""
    return structlog.get_logger().bind(component=component, **context)
