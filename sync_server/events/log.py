"""The event log in Postgres (migration 0081): emit inside a transaction, read back in exact seq order."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EVENTS = ("appointment_bid", "appointment_update", "health_alert")  # the product's server events
_COLS = "seq, event, topic, payload, patient_id::text AS patient_id, audience::text[] AS audience"


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
    return int(row["seq"] if isinstance(row, dict) else row[0])


# An event is handed on only once none of the emitting transactions it waits for holds the emitters' lock any more
# (migration 0081 explains why that makes seq order exact). The lock holders are read first, in their own
# statement, then the log under a newer snapshot: whoever had finished by then is visible in the log.
EMITTERS_LOCK = (1213416790, 1)
_HOLDERS = ("SELECT coalesce(array_agg(virtualtransaction), '{}') AS h FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND objsubid = 2 AND granted")
_AFTER = f"SELECT {_COLS}, NOT (waits_for && %s::text[]) AS ready FROM event_log WHERE seq > %s ORDER BY seq LIMIT %s"


def read_ready(conn, after: int, limit: int = 1000) -> list[Event]:
    """Events after `after` that no running transaction can precede any more, in seq order (the server's role;
    outside a transaction block, so each statement sees what committed before it)."""
    row = conn.execute(_HOLDERS, EMITTERS_LOCK).fetchone()
    holders = row["h"] if isinstance(row, dict) else row[0]
    out = []
    for row in conn.execute(_AFTER, (holders, after, limit)).fetchall():
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
    value = row["pruned_upto"] if isinstance(row, dict) else row[0]
    return int(value)


def oldest_seq(conn) -> int | None:
    """The oldest seq still in the log (older events were pruned), or None when the log is empty."""
    row = conn.execute("SELECT min(seq) AS s FROM event_log").fetchone()
    value = row["s"] if isinstance(row, dict) else row[0]
    return None if value is None else int(value)
