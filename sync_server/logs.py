"""Structured JSON logs: one object per line, each carrying the request id of the request being served."""
from __future__ import annotations

import logging
import sys

from protocol.envelope import current_request_id

logger = logging.getLogger("sync_server")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (also records from uvicorn and libraries)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


def json_formatter() -> logging.Formatter:
    """The JSON formatter used by the server's log handler."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(level: str = "INFO") -> None:
    """Send all logs to stderr as JSON lines (called by `healthsync server run`, not by the app factory)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_healthsync", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._healthsync = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter())
    root.addHandler(handler)
    root.setLevel(level)


def log_event(level: int, message: str, **fields) -> None:
    """Log one event with structured fields; callers pass ids and codes only, never bodies or PHI."""
    logger.log(level, message, extra={"request_id": current_request_id(), **fields})
