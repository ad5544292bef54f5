"""Real-time events: a Postgres event log written in the change's own transaction, fanned out to `/v1/ws`.

The one call other modules need:

    from sync_server import events
    seq = events.emit(conn, event="health_alert", topic=f"patient:{pid}", payload={...}, patient_id=pid)

`emit` appends to `event_log` inside the caller's transaction (so an event exists exactly when its change
commits) and returns the event's global `seq`. `audience` (user ids) defaults to everyone who may read the patient
(app.patient_readers); an API caller's audience is cut down to those readers. Clients receive the envelope
`{topic, event, seq, payload}` (docs/marketplace.md). The pieces: log.py (emit and ordered reads), hub.py (this
instance's sockets), relay.py (the log → Redis pub/sub → every instance), runtime.py (starting and stopping them).
"""
from sync_server.events.log import EVENTS, Event, emit

__all__ = ["EVENTS", "Event", "emit"]
