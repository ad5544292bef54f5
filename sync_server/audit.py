"""Audit rows: who read or wrote whose data, when, from which device and request (never the data itself)."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from protocol.envelope import current_request_id
from sync_server.auth import Principal

# A read or write of a patient the caller reaches only through break-glass is flagged (app.via_glass, 0051).
_INSERT = (
    "INSERT INTO audit_log (actor, role, action, table_name, row_id, subject_id, device_id, request_id, detail, "
    "break_glass) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s OR coalesce(app.via_glass(%s::uuid), false))"
)


def record(
    conn, principal: Principal, action: str, table: str, *, row_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None, device_id: uuid.UUID | None = None, detail: dict[str, Any] | None = None,
    break_glass: bool = False,
) -> None:
    """Append one audit row inside the caller's transaction (so it commits or rolls back with the access)."""
    record_many(conn, principal, action, table, [(row_id, subject_id)], device_id=device_id, detail=detail,
                break_glass=break_glass)


def record_many(
    conn, principal: Principal, action: str, table: str, rows: Iterable[tuple[uuid.UUID | None, uuid.UUID | None]],
    *, device_id: uuid.UUID | None = None, detail: dict[str, Any] | None = None, break_glass: bool = False,
) -> None:
    """Append one audit row per (row_id, subject_id) pair in a single round trip."""
    params = [
        (principal.user_id, principal.role, action, table, row_id, subject_id, device_id, current_request_id(),
         json.dumps(detail) if detail is not None else None, break_glass, subject_id)
        for row_id, subject_id in rows
    ]
    if params:
        with conn.cursor() as cur:
            cur.executemany(_INSERT, params)
