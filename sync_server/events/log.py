"""The event log in Postgres (migration 0081): emit inside a transaction, read back in exact seq order."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EVENTS = ("appointment_bid", "appointment_update", "health_alert")  # the product's server events
_COLS = "seq, event, topic, payload, patient_id::text AS patient_id, audience::text[] AS audience"


def _one(row):
    """The first column of a row, from a dict_row or a tuple_row cursor."""
    return row[next(iter(row))] if isinstance(row, dict) else row[0]


@dataclass(frozen=True)
class Event:
    """One logged event: its global seq, name, topic, payload, the patient it is about and who may receive it."""

    seq: int
    event: str
    topic: str
    payload: dict[str, Any]
    patient_id: str | None
    audience: frozenset[str]

    def envelope(self) -> dict[str, Any]:
        """What a client receives."""
        return {"topic": self.topic, "event": self.event, "seq": self.seq, "payload": self.payload}

    def to_wire(self) -> dict[str, Any]:
        """The event as it travels between instances (Redis)."""
        return {**self.envelope(), "patient_id": self.patient_id, "audience": sorted(self.audience)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Event:
        payload = row["payload"]
        return cls(int(row["seq"]), row["event"], row["topic"], payload if isinstance(payload, dict) else
                   json.loads(payload), row.get("patient_id"), frozenset(row.get("audience") or ()))


def emit(conn, *, event: str, topic: str, payload: dict[str, Any] | None = None,
         patient_id: uuid.UUID | str | None = None, audience: Iterable[uuid.UUID | str] | None = None) -> int:
    """Append an event in the connection's current transaction and return its seq (app.emit, migration 0081).

    Under an API caller's role the event must be about a patient the caller may read, and only that patient's
    readers are told; the server's own roles (triggers, jobs) may name any audience."""
    who = None if audience is None else [str(uuid.UUID(str(u))) for u in audience]
    row = conn.execute("SELECT app.emit(%s, %s, %s::jsonb, %s::uuid, %s::uuid[]) AS seq",
                       (event, topic, json.dumps(payload or {}, default=str),
                        None if patient_id is None else str(patient_id), who)).fetchone()
    return int(_one(row))


# An event is handed on only once none of the emitting transactions it waits for holds the emitters' lock any more
# (migration 0081 explains why that makes seq order exact), and only if its number was drawn before the lock holders
# were read. Without that bound an emitter that took the lock after the holders were read was missing from them:
# a later event that waited for it, committed before the log was read, looked ready while the emitter's own event
# was not visible yet, and was handed on first; the earlier event was then skipped for good (bench_load lost about
# one event in 400 so, under twice the load it could serve). So: the last number drawn first, then the holders,
# then the log under a newer snapshot, each in its own statement. Whoever drew at most that number had taken the
# lock before the holders were read: it is among them, or finished and visible in the log (or rolled back).
EMITTERS_LOCK = (1213416790, 1)
_LAST_DRAWN = "SELECT coalesce(pg_sequence_last_value('event_seq'), 0) AS m"
_HOLDERS = ("SELECT coalesce(array_agg(virtualtransaction), '{}') AS h FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND objsubid = 2 AND granted")
_AFTER = (f"SELECT {_COLS}, NOT (waits_for && %s::text[]) AS ready FROM event_log WHERE seq > %s AND seq <= %s "
          f"ORDER BY seq LIMIT %s")


def read_ready(conn, after: int, limit: int = 1000) -> list[Event]:
    """Events after `after` that no running transaction can precede any more, in seq order (the server's role;
    outside a transaction block, so each statement sees what committed before it)."""
    drawn = int(_one(conn.execute(_LAST_DRAWN).fetchone()))
    holders = _one(conn.execute(_HOLDERS, EMITTERS_LOCK).fetchone())
    out = []
    for row in conn.execute(_AFTER, (holders, after, drawn, limit)).fetchall():
        row = row if isinstance(row, dict) else dict(zip(("seq", "event", "topic", "payload", "patient_id",
                                                         "audience", "ready"), row, strict=True))
        if not row["ready"]:
            break
        out.append(Event.from_row(row))
    return out


def read_range(conn, after: int, upto: int) -> list[Event]:
    """Every event with after < seq <= upto, in order (a range the relay already found complete)."""
    rows = conn.execute(f"SELECT {_COLS} FROM event_log WHERE seq > %s AND seq <= %s ORDER BY seq",
                        (after, upto)).fetchall()
    return [Event.from_row(r) for r in rows]


def read_for_caller(conn, after: int, upto: int, limit: int = 500) -> list[Event]:
    """Under the caller's RLS: their events with after < seq <= upto, in order, at most `limit` (a resume)."""
    rows = conn.execute(f"SELECT {_COLS} FROM event_log WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s",
                        (after, upto, limit)).fetchall()
    return [Event.from_row(r) for r in rows]


def pruned_upto(conn) -> int:
    """The highest seq the retention job has deleted (0093): a resume from before it missed events for good."""
    row = conn.execute("SELECT pruned_upto FROM event_relay_state WHERE id = 1").fetchone()
    return int(_one(row))


def oldest_seq(conn) -> int | None:
    """The oldest seq still in the log (older events were pruned), or None when the log is empty."""
    row = conn.execute("SELECT min(seq) AS s FROM event_log").fetchone()
    value = _one(row)
    return None if value is None else int(value)
