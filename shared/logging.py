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


def configure_logging(
    service: str, *, fmt: LogFormat = "auto", level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's logging through one redacting JSON pipeline."""
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
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(fmt, out),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "aiosqlite", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger."""
    return structlog.stdlib.get_logger(name)
