"""JSON responses in the protocol's envelope, for the server's routes and error handlers."""
from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from protocol.envelope import envelope, failure


def ok(data: Any = None, message: str = "ok", status_code: int = 200) -> JSONResponse:
    """A successful answer in the envelope."""
    return JSONResponse(envelope(data, message=message), status_code=status_code)


def fail(status_code: int, error: dict, headers: dict | None = None) -> JSONResponse:
    """A failed answer in the envelope; `error` is {code, message, [field, hint, errors]}."""
    return JSONResponse(failure(error), status_code=status_code, headers=headers)
