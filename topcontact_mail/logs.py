"""Structured logging: JSON lines off a terminal, readable colours on one, never a secret.

The libraries underneath (exchangelib, msal, urllib3, APScheduler) log through the
standard `logging` module; their lines are routed through the same processors,
so the log stays one JSON line per event, redacted alike. They are kept at
WARNING: their debug output holds whole requests and answers (tenant mail).
"""

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


#: Libraries whose own logging is routed through structlog, and never below this level.
THIRD_PARTY = (
    "exchangelib",
    "msal",
    "urllib3",
    "requests",
    "requests_ntlm",
    "apscheduler",
    "tzlocal",
)
THIRD_PARTY_LEVEL = logging.WARNING


def _library(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A line from the standard `logging` module names its library as the component."""
    record = event.get("_record")
    if record is not None and "component" not in event:
        event["component"] = record.name
    return event


class _Stderr:
    """Standard error as it is at the moment of writing: while a progress bar holds the
    terminal (rich replaces `sys.stderr`), log lines are printed above the bar."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog once per process; JSON when `stream` (default: standard error, as it is
    at each line) is not a terminal."""
    out: Any = stream or _Stderr()
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if out.isatty()
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    shared: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
        structlog.processors.format_exc_info,
    ]
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                _library,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.getLevelNamesMapping()[level.upper()])
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(max(THIRD_PARTY_LEVEL, root.level))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *shared,
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
