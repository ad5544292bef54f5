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
    if len(params) == 1:
        # One row (every audited API read and write): a plain execute. executemany goes through pipeline mode,
        # whose enter, sync and exit were three more round trips than the insert needs (bench_push_cost).
        conn.execute(_INSERT, params[0])
    elif params:
        with conn.cursor() as cur:
            cur.executemany(_INSERT, params)


_WHAT = {"health_metrics": "metric_type", "symptoms": "'symptom'", "predictions": "disease",
         "therapy_sessions": "exercise", "health_events": "event_type"}
# What a reading is called in a sentence (else its type with spaces: heart_rate -> "heart rate").
_LABELS = {"systolic_bp": "blood pressure", "diastolic_bp": "diastolic blood pressure",
           "glycated_hemoglobin": "HbA1c"}


def _label(what: str) -> str:
    return _LABELS.get(what, what.replace("_", " "))


def describe(conn, audit_id: uuid.UUID | str) -> str:
    """One audit row as a sentence: "nurse N recorded blood pressure for patient P on kiosk K" (people by name
    when the server knows one, else by id; the device by its name when it has one). Reads as the login role: for
    operators and tests, not a route."""
    from sync_server.tenancy import display_name

    a = conn.execute("SELECT a.actor, a.role, a.action, a.table_name, a.row_id, a.subject_id, a.device_id, "
                     "a.break_glass, d.kind, d.name FROM audit_log a LEFT JOIN sync_devices d ON d.id = a.device_id "
                     "WHERE a.id = %s LIMIT 1", (audit_id,)).fetchone()
    if a is None:
        raise KeyError(audit_id)
    what = a["table_name"]
    if a["table_name"] in _WHAT and a["row_id"] is not None:
        row = conn.execute(f"SELECT {_WHAT[a['table_name']]} AS w FROM {a['table_name']} WHERE id = %s",
                           (a["row_id"],)).fetchone()
        what = row["w"] if row is not None else what
    verb = {"sync_insert": "recorded", "create": "recorded", "sync_update": "changed", "sync_delete": "deleted",
            "read": "read", "sync_pull": "pulled"}.get(a["action"], a["action"])
    actor, subject = (display_name(conn, u) or u if u is not None else None for u in (a["actor"], a["subject_id"]))
    sentence = f"{a['role']} {actor} {verb} {_label(what)} for patient {subject}"
    if a["device_id"] is not None:
        device = "kiosk" if a["kind"] == "clinic" else "device"
        sentence += f" on {device} {a['name'] or a['device_id']}"
    return sentence + (" (break-glass)" if a["break_glass"] else "")
