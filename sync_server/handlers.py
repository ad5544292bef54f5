"""Exception handlers: every error becomes the JSON envelope with a stable code; internals never leak."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from protocol.codes import ErrorCode
from protocol.errors import AuthError, HealthSyncError
from sync_server.logs import log_event
from sync_server.responses import fail


async def on_healthsync_error(request: Request, exc: HealthSyncError):
    """A domain error: its own code, status and message (messages are written to be safe to show)."""
    headers = {}
    retry_after = getattr(exc, "retry_after", None)  # rate limits; a database that is down or lost a conflict
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    level = logging.ERROR if exc.http_status >= 500 else logging.INFO
    log_event(level, "request failed", error_code=exc.code, error_type=type(exc).__name__)
    return fail(exc.http_status, exc.to_dict(), headers)


def _field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def on_request_validation(request: Request, exc: RequestValidationError):
    """FastAPI's own parameter validation, reshaped like protocol.schema.validate's errors (field + message)."""
    errors = [{"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return fail(422, {"code": ErrorCode.VALIDATION_FAILED, "message": f"{first['field']}: {first['message']}",
                      "field": first["field"], "errors": errors})


async def on_http_exception(request: Request, exc: StarletteHTTPException):
    """Routing errors (404, 405) in the envelope."""
    codes = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE}
    other = ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.BAD_INPUT
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return fail(exc.status_code, {"code": codes.get(exc.status_code, other), "message": message},
                dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(HealthSyncError, on_healthsync_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
