"""Health alerts: raised by a trigger when a red-flag symptom arrives (migration 0082, in the push's own
transaction, with its `health_alert` event), acknowledged by the care team here, escalated by the server's jobs
when nobody acknowledges one within app.settings alert_escalate_seconds."""
from __future__ import annotations

import uuid
from typing import Any

from protocol.errors import ForbiddenError, NotFoundError
from sync_server import events

COLUMNS = ("id, user_id AS patient_id, symptom_id, urgency, red_flags, raised_at, acknowledged_at, "
           "acknowledged_by, escalated_at, level")


def _payload(row: dict[str, Any], status: str) -> dict[str, Any]:
    return {"alert_id": row["id"], "patient_id": row["patient_id"], "symptom_id": row["symptom_id"],
            "urgency": row["urgency"], "red_flags": row["red_flags"], "level": row["level"], "status": status}


def acknowledge(conn, alert_id: uuid.UUID) -> dict[str, Any]:
    """Under the caller's RLS: mark an alert acknowledged (once; again is a no-op) and tell the care team."""
    row = conn.execute(f"UPDATE health_alerts SET acknowledged_at = now(), acknowledged_by = auth.uid() "
                       f"WHERE id = %s AND acknowledged_at IS NULL RETURNING {COLUMNS}", (alert_id,)).fetchone()
    if row is None:
        row = conn.execute(f"SELECT {COLUMNS} FROM health_alerts WHERE id = %s", (alert_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no alert {alert_id} that you may see")
        if row["acknowledged_at"] is None:
            raise ForbiddenError("only the patient's care team acknowledges an alert")
        return row
    events.emit(conn, event="health_alert", topic=f"patient:{row['patient_id']}",
                payload={**_payload(row, "acknowledged"), "acknowledged_by": row["acknowledged_by"]},
                patient_id=row["patient_id"])
    return row


def escalate_due(conn, limit: int = 200) -> int:
    """As the server: alerts unacknowledged past the escalation time go up a level, with a new event."""
    rows = conn.execute(
        f"UPDATE health_alerts SET escalated_at = now(), level = least(level + 1, 5) WHERE id IN ("
        f"SELECT id FROM health_alerts WHERE acknowledged_at IS NULL AND escalated_at IS NULL AND raised_at < now() - "
        f"make_interval(secs => (app.setting('alert_escalate_seconds', '300'))::text::float8) "
        f"ORDER BY raised_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}", (limit,)).fetchall()
    for row in rows:
        events.emit(conn, event="health_alert", topic=f"patient:{row['patient_id']}",
                    payload=_payload(row, "escalated"), patient_id=row["patient_id"])
    return len(rows)
