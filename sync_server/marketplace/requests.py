"""Opening a care request: an `appointments` row in status `requested`, for the caller or (clinic staff) one of
their patients, from a symptom record or free text. Matching and notifying the doctors is done by the database
(app.match_request and the event trigger, migrations 0080/0081), so a request synced from an offline device is
matched by the same rules."""
from __future__ import annotations

import uuid
from typing import Any

from protocol.errors import ForbiddenError, ValidationError
from protocol.schema import new_id
from sync_server.marketplace import matching

APPOINTMENT_COLUMNS = ("id, patient_id, doctor_id, status, reason, specialty, urgency, symptom_id, bid_id, "
                       "scheduled_at, ends_at, price, expires_at, created_at, updated_at")


def in_write_scope(conn, patient_id: uuid.UUID) -> bool:
    """Whether the caller may write appointments for another patient (0051's app.my_write_scope)."""
    row = conn.execute("SELECT %s::uuid IN (SELECT app.my_write_scope('appointments')) AS ok", (patient_id,))
    return bool(row.fetchone()["ok"])


def open_request(conn, caller: uuid.UUID, hlc: str, *, patient_id: uuid.UUID | None = None,
                 symptom_id: uuid.UUID | None = None, description: str | None = None, specialty: str | None = None,
                 urgency: str | None = None, groq_api_key: str | None = None, http_client=None) -> dict[str, Any]:
    """Create the request and return it with the doctors it was matched to and how its specialty was chosen."""
    patient = patient_id or caller
    if patient != caller and not in_write_scope(conn, patient):
        raise ForbiddenError("patient_id must be yourself or a patient in your care", field="patient_id")
    if symptom_id is None and not (description and description.strip()):
        raise ValidationError("give a description or a symptom_id", field="description")
    match = matching.rules(conn, patient, symptom_id=symptom_id, description=description, specialty=specialty,
                           urgency=urgency)
    match = matching.refine(match, groq_api_key, groq_api_key is not None and matching.llm_consented(conn, patient),
                            http_client=http_client)
    row = conn.execute(
        f"INSERT INTO appointments (id, patient_id, status, reason, specialty, urgency, symptom_id, hlc) "
        f"VALUES (%s, %s, 'requested', %s, %s, %s, %s, %s) RETURNING {APPOINTMENT_COLUMNS}",
        (new_id(), patient, match.description or None, match.specialty, match.urgency, symptom_id, hlc)).fetchone()
    matched = conn.execute("SELECT doctor_id FROM appointment_matches WHERE appointment_id = %s ORDER BY rank",
                           (row["id"],)).fetchall()
    return {**row, "matched_doctor_ids": [m["doctor_id"] for m in matched],
            "matching": {"source": match.source, "llm": match.llm}}
