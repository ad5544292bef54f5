"""Doctors' bids on open requests. Only a doctor the request was matched to (notified), or one of its specialty,
may bid (app.bid_refusal, migration 0080: others get 403, a request no longer open 409); the database checks it
again in the bids' RLS policy. The new bid's `appointment_bid` event is written by a trigger."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from protocol.errors import ConflictError, ForbiddenError, ValidationError

MAX_AHEAD = dt.timedelta(days=366)
BID_COLUMNS = "id, appointment_id, doctor_id, price, slot_start, slot_end, note, status, created_at"


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def check_slot(start: dt.datetime, end: dt.datetime) -> None:
    """A slot is in the future (within a year), ends after it starts and lasts at most 12 hours."""
    start, end = _aware(start), _aware(end)
    now = dt.datetime.now(dt.UTC)
    if not now - dt.timedelta(minutes=5) <= start <= now + MAX_AHEAD:
        raise ValidationError("slot_start must be in the future, within a year", field="slot_start")
    if not start < end <= start + dt.timedelta(hours=12):
        raise ValidationError("slot_end must be after slot_start, at most 12 hours later", field="slot_end")


def place(conn, appointment_id: uuid.UUID, *, price: float, slot_start: dt.datetime, slot_end: dt.datetime,
          note: str | None = None) -> dict[str, Any]:
    """The calling doctor's bid on a request."""
    check_slot(slot_start, slot_end)
    doctor = conn.execute("SELECT d AS id FROM app.my_doctor_ids() d LIMIT 1").fetchone()
    doctor_id = doctor["id"] if doctor else None
    refusal = conn.execute("SELECT app.bid_refusal(%s, %s) AS r", (appointment_id, doctor_id)).fetchone()["r"]
    if refusal == "forbidden":
        raise ForbiddenError("only a doctor matched to this request, or of its specialty, may bid on it",
                             hint="doctors are notified of the requests they may bid on (appointment_update)")
    if refusal == "closed":
        raise ConflictError("this request is no longer open for bids")
    return conn.execute(f"INSERT INTO appointment_bids (appointment_id, doctor_id, price, slot_start, slot_end, note) "
                        f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {BID_COLUMNS}",
                        (appointment_id, doctor_id, price, _aware(slot_start), _aware(slot_end),
                         note.strip() if note else None)).fetchone()


def list_for(conn, appointment_id: uuid.UUID) -> list[dict[str, Any]]:
    """The bids on a request the caller may read (RLS), oldest first."""
    return conn.execute(f"SELECT {BID_COLUMNS} FROM appointment_bids WHERE appointment_id = %s ORDER BY created_at, id",
                        (appointment_id,)).fetchall()
