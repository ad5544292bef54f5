"""From the log to every instance: the relay reads the log in exact order and publishes each complete batch on
Redis pub/sub; each instance's subscriber hands batches to its hub, filling any gap from the log. Without Redis the
relay hands its batches straight to its own instance (one instance, or each reading the log for itself).

A batch is {"after", "upto", "events"}: every event with after < seq <= upto that exists. A subscriber that
receives a batch whose `after` is past what it has (it missed one, or Redis dropped it) reads that range from the
log first, so an instance never skips an event. Only one relay publishes (a session advisory lock elects it; it
keeps its high-water mark in `event_relay_state`, so the next leader resumes there).
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from sync_server.events import log as event_log
from sync_server.events.log import Event

logger = logging.getLogger(__name__)
RELAY_LOCK_KEY = 0x48534556  # "HSEV": one publishing relay per database
CHANNEL = "healthsync:events"
Deliver = Callable[[list[Event], int], None]


def _connect(url: str):
    import psycopg
    from psycopg.rows import dict_row

    conn = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=5)
    conn.execute("SET ROLE service_role")  # reads every event (BYPASSRLS); the audience filter is the hub's
    return conn


def relay_high(conn) -> int:
    """The last seq the publishing relay announced."""
    return int(conn.execute("SELECT high FROM event_relay_state WHERE id = 1").fetchone()["high"])


class _Loop(threading.Thread):
    """A daemon thread that runs `step` until stopped, reconnecting after database or Redis errors."""

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.session()
            except Exception as exc:  # a lost connection or Redis: log the type only (messages may hold data)
                logger.warning("%s: %s; retrying in 1 s", self.name, type(exc).__name__)
                self.stopping.wait(1.0)

    def session(self) -> None:
        raise NotImplementedError


class Relay(_Loop):
    """Reads ready events in seq order and hands each batch to `publish` (Redis) or `deliver` (this instance)."""

    def __init__(self, db_url: str, *, publish: Callable[[dict], None] | None = None, deliver: Deliver | None = None,
                 tick_s: float = 0.5, batch: int = 1000, on_doctors: Callable[[], object] | None = None):
        super().__init__("event-relay")
        self.db_url, self.publish, self.deliver, self.on_doctors = db_url, publish, deliver, on_doctors
        self.tick_s, self.batch = tick_s, batch
        self.is_leader = False
        self.high = 0
        self.started = threading.Event()

    def session(self) -> None:
        with _connect(self.db_url) as conn:
            conn.execute("LISTEN healthsync_events")
            conn.execute("LISTEN healthsync_doctors")
            if self.publish is not None:
                # Leader election: one relay publishes; the others wait to take over.
                while not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (RELAY_LOCK_KEY,)).fetchone()["ok"]:
                    self.started.set()
                    if self.stopping.wait(1.0):
                        return
                self.high = relay_high(conn)
            else:
                row = conn.execute("SELECT coalesce(max(seq), 0) AS s FROM event_log").fetchone()
                self.high = int(row["s"])
                self.deliver([], self.high)  # the hub's live stream starts here
            self.is_leader = True
            self._doctors_changed()  # whatever was cached before this leader may be stale
            self.started.set()
            try:
                while not self.stopping.is_set():
                    events = event_log.read_ready(conn, self.high, self.batch)
                    if events:
                        self._hand_on(conn, events)
                        if len(events) == self.batch:
                            continue
                    # Woken by the NOTIFY of a commit that logged an event, or by the tick (an event waiting on an
                    # unrelated transaction that emits nothing becomes ready without a NOTIFY).
                    for note in conn.notifies(timeout=self.tick_s if not events else 0.05, stop_after=1):
                        if note.channel == "healthsync_doctors":
                            self._doctors_changed()
            finally:
                self.is_leader = False

    def _doctors_changed(self) -> None:
        if self.on_doctors is not None:
            try:
                self.on_doctors()
            except Exception as exc:  # Redis down: the entries expire within 30 minutes anyway
                logger.warning("could not drop cached doctor searches (%s)", type(exc).__name__)

    def _hand_on(self, conn, events: list[Event]) -> None:
        upto = events[-1].seq
        if self.publish is not None:
            self.publish({"after": self.high, "upto": upto, "events": [e.to_wire() for e in events]})
            conn.execute("UPDATE event_relay_state SET high = %s WHERE id = 1", (upto,))
        else:
            self.deliver(events, upto)
        self.high = upto


def _event_from_wire(w: dict) -> Event:
    return Event(int(w["seq"]), w["event"], w["topic"], w["payload"], w.get("patient_id"),
                 frozenset(w.get("audience") or ()))


class Subscriber(_Loop):
    """Receives the relay's batches from Redis and hands them to this instance, reading missed ranges from the log."""

    def __init__(self, db_url: str, redis_factory: Callable[[], object], channel: str, deliver: Deliver):
        super().__init__("event-subscriber")
        self.db_url, self.redis_factory, self.channel, self.deliver = db_url, redis_factory, channel, deliver
        self.high: int | None = None
        self.started = threading.Event()

    def session(self) -> None:
        client = self.redis_factory()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            with _connect(self.db_url) as conn:
                if self.high is None:  # first start: what was announced before is not ours to deliver
                    self.high = relay_high(conn)
                    self.deliver([], self.high)
                self.started.set()
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None or message.get("type") != "message":
                        continue
                    self._take(conn, json.loads(message["data"]))
        finally:
            pubsub.close()
            client.close()

    def _take(self, conn, batch: dict) -> None:
        after, upto = int(batch["after"]), int(batch["upto"])
        if upto <= self.high:
            return
        if after > self.high:  # a batch went missing: the range is complete in the log, read it from there
            missed = event_log.read_range(conn, self.high, after)
            self.deliver(missed, after)
            self.high = after
        events = [e for e in map(_event_from_wire, batch["events"]) if e.seq > self.high]
        self.deliver(events, upto)
        self.high = upto
