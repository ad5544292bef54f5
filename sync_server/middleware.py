"""ASGI middleware: request ids and access logs with a last-resort error answer, and the body size limit."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from protocol.codes import ErrorCode
from protocol.envelope import failure, request_id_var
from protocol.errors import HealthSyncError
from sync_server.logs import log_event

# Accept a caller's id only if it is short and plain, so it cannot inject anything into logs or headers.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class PayloadTooLargeError(HealthSyncError):
    """The request body exceeds MAX_BODY_BYTES."""

    code = ErrorCode.PAYLOAD_TOO_LARGE
    http_status = 413


async def _send_json(send, status: int, body: dict, headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    """Outermost layer: assigns the request id, logs one access line, and turns any escaped error into a 500."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Type and request id only: the exception text may quote PHI from a request or a row.
            log_event(logging.ERROR, "unhandled error", error_type=type(exc).__name__)
            if not status["sent"]:
                status["code"] = 500
                err = {"code": "INTERNAL_ERROR", "message": "internal server error"}
                await _send_json(send, 500, failure(err),
                                 [(b"x-request-id", rid.encode())])
        finally:
            # Path without the query string: query values may be identifiers a log must not hold.
            log_event(logging.INFO, "request", method=scope.get("method"), path=scope.get("path"),
                      status=status["code"], duration_ms=round((time.perf_counter() - started) * 1000, 2))
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Reads the body up front and answers 413 once it passes `max_bytes` (Content-Length or chunked)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # Client went away before finishing the body: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._reject(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send):
        err = PayloadTooLargeError(f"request body exceeds {self.max_bytes} bytes").to_dict()
        await _send_json(send, 413, failure(err),
                         [(b"connection", b"close")])
