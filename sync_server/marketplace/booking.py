"""Moving an appointment: booking a request by accepting a bid, and the later transitions, each one
compare-and-swap on the current status (`UPDATE … WHERE status = <seen>`): of N racing accepts exactly one
matches, the rest find it booked (409 ALREADY_BOOKED). Who may make which move is protocol.appointments, enforced
by the 0016 trigger; the bid's doctor, slot and price are copied by the 0080 trigger, and the exclusion constraint
refuses an overlapping booking of one doctor (409 SLOT_TAKEN). The same triggers run for a move synced from a
device, so REST, WebSocket and sync share one rule."""
from __future__ import annotations

import uuid
from typing import Any

from protocol.codes import ErrorCode
from protocol.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from sync_server.marketplace.requests import APPOINTMENT_COLUMNS

# The server's stamp on the columns it changes: a device's older offline edit of them then loses the merge.
_STAMP = ("hlc = greatest(hlc, %(hlc)s), updated_at = now(), "
          "col_clocks = col_clocks || jsonb_build_object('status', %(hlc)s::text) "
          "|| CASE WHEN %(bid)s::uuid IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('bid_id', %(hlc)s::text) END")


def _current(conn, appointment_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute("SELECT status, bid_id FROM appointments WHERE id = %s AND NOT deleted",
                       (appointment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no appointment {appointment_id} that you may see")
    return row


def book(conn, appointment_id: uuid.UUID, bid_id: uuid.UUID | None, hlc: str) -> dict[str, Any]:
    """Accept a bid: requested → booked, once."""
    if bid_id is None:
        raise ValidationError("booking names the accepted bid: bid_id", field="bid_id")
    row = conn.execute(f"UPDATE appointments SET status = 'booked', bid_id = %(bid)s, {_STAMP} "
                       f"WHERE id = %(id)s AND status = 'requested' AND NOT deleted RETURNING {APPOINTMENT_COLUMNS}",
                       {"bid": bid_id, "hlc": hlc, "id": appointment_id}).fetchone()
    if row is not None:
        return row
    now = _current(conn, appointment_id)
    if now["status"] == "requested":
        raise ForbiddenError("you may not book this request", hint="the patient or their clinic's staff books it")
    raise ConflictError(f"this request is {now['status']}, not open for booking", code=ErrorCode.ALREADY_BOOKED)


def move(conn, appointment_id: uuid.UUID, status: str, hlc: str, expected: str | None = None) -> dict[str, Any]:
    """Any other transition, from the status the caller saw (`expected`, else the current one)."""
    seen = expected or _current(conn, appointment_id)["status"]
    row = conn.execute(f"UPDATE appointments SET status = %(new)s, {_STAMP} WHERE id = %(id)s AND status = %(seen)s "
                       f"AND NOT deleted RETURNING {APPOINTMENT_COLUMNS}",
                       {"new": status, "hlc": hlc, "bid": None, "id": appointment_id, "seen": seen}).fetchone()
    if row is not None:
        return row
    now = _current(conn, appointment_id)
    if now["status"] == seen:
        raise ForbiddenError(f"you may not change this appointment from {seen}")
    raise ConflictError(f"the appointment is {now['status']} now, not {seen}", code=ErrorCode.STALE_STATUS,
                        hint="reload it and retry")


def transition(conn, appointment_id: uuid.UUID, status: str, hlc: str, *, bid_id: uuid.UUID | None = None,
               expected: str | None = None) -> dict[str, Any]:
    """PUT /api/v1/appointments/{id}: `booked` with a bid, or a later status."""
    if status == "booked":
        return book(conn, appointment_id, bid_id, hlc)
    if bid_id is not None:
        raise ValidationError("bid_id goes only with status booked", field="bid_id")
    return move(conn, appointment_id, status, hlc, expected)


def get(conn, appointment_id: uuid.UUID) -> dict[str, Any]:
    """An appointment the caller may read, with the bids they may read."""
    from sync_server.marketplace import bids

    row = conn.execute(f"SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = %s AND NOT deleted",
                       (appointment_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no appointment {appointment_id} that you may see")
    return {**row, "bids": bids.list_for(conn, appointment_id)}


def expire_due(conn, limit: int = 500) -> int:
    """As the server: requests past their expires_at that nobody took become `expired` (bounded per call)."""
    return conn.execute("UPDATE appointments SET status = 'expired', updated_at = now() WHERE id IN ("
                        "SELECT id FROM appointments WHERE status = 'requested' AND expires_at < now() "
                        "ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)", (limit,)).rowcount
