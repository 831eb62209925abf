"""structlog set-up: JSON lines (pretty on a terminal), the service name, the correlation id, no PII."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from shared.privacy import redact_event_dict
from shared.settings import LogFormat


def _renderer(fmt: LogFormat, stream: TextIO) -> Processor:
    pretty = fmt == "console" or (fmt == "auto" and stream.isatty())
    if pretty:
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer()


class NamedWriter(structlog.WriteLogger):
    """structlog's writer of whole lines, with the name it was asked for (for `add_logger_name`)."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def configure_logging(
    service: str,
    *,
    fmt: LogFormat = "auto",
    level: str = "INFO",
    stream: TextIO | None = None,
    for_the_process: bool = False,
) -> None:
    """Route structlog and the standard library's logging through one redacting JSON pipeline.

    Our own lines go from structlog straight to the stream (no `logging.LogRecord`, handler or
    formatter on the way: a third of a line's cost); other libraries' lines come through the
    standard library and the same processors, so every line has the same shape.

    `for_the_process`: configured once, by a service's entry point, so each logger is bound on
    its first use and kept (structlog's advice for production; a third of a line's CPU again).
    Tests, which configure again and again, leave it off.
    """
    out = stream or sys.stdout

    def add_service(_: Any, __: str, event_dict: Any) -> Any:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.format_exc_info,
        redact_event_dict,
        structlog.processors.TimeStamper(fmt="iso", utc=True),  # after redaction: nothing to scan
    ]
    renderer = _renderer(fmt, out)
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=lambda name=None, *_: NamedWriter(out, name or ""),
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        cache_logger_on_first_use=for_the_process,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "aiosqlite", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger."""
    return structlog.stdlib.get_logger(name)
