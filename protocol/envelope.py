"""The JSON envelope every HTTP answer is wrapped in, sync server and edge local API alike.

Shape: {success, data, message, timestamp, request_id[, error]}. Plain dicts only: each side's web layer turns them
into responses, so this module needs no web framework.
"""
from __future__ import annotations

import contextvars
import datetime as dt
from typing import Any

from pydantic_core import to_jsonable_python

# Set by the request-id middleware; read by the envelope, the logs and the audit rows.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served ("-" outside a request)."""
    return request_id_var.get()


def envelope(data: Any = None, *, success: bool = True, message: str = "ok", error: dict | None = None) -> dict:
    """The envelope as a plain JSON-able dict (datetimes, UUIDs, dataclasses and models converted)."""
    body = {
        "success": success,
        "data": to_jsonable_python(data),
        "message": message,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "request_id": current_request_id(),
    }
    if error is not None:
        body["error"] = error
    return body


def failure(error: dict) -> dict:
    """A failed answer's envelope; `error` is {code, message, [field, hint, errors]}."""
    return envelope(None, success=False, message=error.get("message", "error"), error=error)
