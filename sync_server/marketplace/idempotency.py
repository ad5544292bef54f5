"""Idempotency-Key for POST and PUT: a retry with the same key gets the first answer, and the work is done once.

The key row is inserted first, in the request's own transaction: a concurrent retry with the same key waits on
the unique index until the first commits, then reads its answer. The work runs in a savepoint, so a refusal
(a 4xx HealthSyncError: already booked, forbidden, invalid) is stored and replayed too; anything else rolls the
whole transaction back, key included, and a retry runs again. Keys are per user; the same key with another body
is refused (IDEMPOTENCY_KEY_REUSED).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import psycopg
from fastapi.responses import JSONResponse

from protocol.codes import ErrorCode
from protocol.envelope import envelope
from protocol.errors import HealthSyncError, RateLimitedError, ValidationError
from sync_server.db import translate

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 200

Action = Callable[[], tuple[int, Any, str]]  # -> (status code, data, message)


class KeyReusedError(ValidationError):
    """The key was used before for a different request."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    http_status = 422


def _hash(method: str, path: str, body: Any) -> str:
    text = json.dumps([method, path, body], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _response(status: int, body: dict, replayed: bool) -> JSONResponse:
    headers = {REPLAYED: "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)


def _body(status: int, data: Any, message: str) -> dict:
    return envelope(data, message=message)


def _error_body(exc: HealthSyncError) -> dict:
    return envelope(None, success=False, message=exc.message, error=exc.to_dict())


def _cacheable(exc: HealthSyncError) -> bool:
    return 400 <= exc.http_status < 500 and not isinstance(exc, RateLimitedError)


def run(conn, user_id, key: str | None, method: str, path: str, body: Any, action: Action) -> JSONResponse:
    """Do `action` once per (user, key) and answer as JSON; without a key, just do it."""
    if key is None:
        status, data, message = action()
        return _response(status, _body(status, data, message), False)
    return _response(*answer(conn, user_id, key, method, path, body, action))


def answer(conn, user_id, key: str, method: str, path: str, body: Any, action: Action) -> tuple[int, dict, bool]:
    """Do `action` once per (user, key); returns (status code, envelope, replayed). A refusal (4xx) is an answer
    too, stored and replayed; anything else is raised. The console renders this answer instead of sending it."""
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        raise ValidationError(f"{HEADER} must be 1 to {MAX_KEY} printable characters", field=HEADER)
    digest = _hash(method, path, body)
    fresh = conn.execute("INSERT INTO idempotency_keys (user_id, key, method, path, request_hash) VALUES "
                         "(%s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING key",
                         (user_id, key, method, path, digest)).fetchone()
    if fresh is None:
        first = conn.execute("SELECT request_hash, status_code, answer FROM idempotency_keys "
                             "WHERE user_id = %s AND key = %s", (user_id, key)).fetchone()
        if first["request_hash"] != digest or first["status_code"] is None:
            raise KeyReusedError(f"this {HEADER} was used for a different request", field=HEADER)
        return first["status_code"], {**first["answer"], **_fresh_stamp()}, True
    try:
        try:
            with conn.transaction():
                status, data, message = action()
                result = _body(status, data, message)
        except psycopg.Error as exc:  # a refusal by the database, translated as db.session would
            raise translate(exc) from exc
    except HealthSyncError as exc:
        if not _cacheable(exc):
            raise
        status, result = exc.http_status, _error_body(exc)
    stored = {k: v for k, v in result.items() if k not in ("timestamp", "request_id")}
    conn.execute("UPDATE idempotency_keys SET status_code = %s, answer = %s::jsonb WHERE user_id = %s AND key = %s",
                 (status, json.dumps(stored), user_id, key))
    return status, result, False


def _fresh_stamp() -> dict:
    stamp = envelope(None)
    return {"timestamp": stamp["timestamp"], "request_id": stamp["request_id"]}
