"""The JSON envelope every HTTP answer is wrapped in, sync server and edge local API alike.

Shape: {success, data, message, timestamp, request_id}.
"""
from __future__ import annotations

import contextvars
import datetime as dt
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

# Set by the request-id middleware; read by the envelope, the logs and the audit rows.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served ("-" outside a request)."""
    return request_id_var.get()


def envelope(data: Any = None, *, success: bool = True, message: str = "ok", error: dict | None = None) -> dict:
    """The envelope as a plain dict."""
    body = {
        "success": success,
        "data": jsonable_encoder(data),
        "message": message,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "request_id": current_request_id(),
    }
    if error is not None:
        body["error"] = error
    return body


def ok(data: Any = None, message: str = "ok", status_code: int = 200) -> JSONResponse:
    """A successful answer in the envelope."""
    return JSONResponse(envelope(data, message=message), status_code=status_code)


def fail(status_code: int, error: dict, headers: dict | None = None) -> JSONResponse:
    """A failed answer in the envelope; `error` is {code, message, [field, hint, errors]}."""
    return JSONResponse(
        envelope(None, success=False, message=error.get("message", "error"), error=error),
        status_code=status_code,
        headers=headers,
    )
