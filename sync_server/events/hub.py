"""This instance's sockets: each connection's topic filter, bounded queue and resume point (asyncio side).

Delivery never waits on a client: an event is offered to each receiving connection's queue without blocking, and a
connection whose queue is full is dropped with the seq it had received (its resume point) instead of slowing the
others. Receivers are found through the event's audience (user ids), so an event costs its audience, not the
number of connections.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sync_server.events.log import Event

CONTROL = "control"  # the topic of the server's own messages (heartbeat, subscribed, ack, error, dropped)


def control(event: str, **payload) -> dict:
    """A server message in the event envelope; control messages carry no seq."""
    return {"topic": CONTROL, "event": event, "seq": None, "payload": payload}


def topic_matches(wanted: str, topic: str) -> bool:
    """A subscription to `appointment` matches `appointment:<id>`; `*` matches everything."""
    return wanted == "*" or topic == wanted or topic.startswith(wanted + ":")


class Connection:
    """One socket's delivery state."""

    def __init__(self, user_id: str, *, max_queue: int = 1000, topics: Iterable[str] | None = None):
        self.user_id = user_id
        self.topics: set[str] | None = set(topics) if topics else None  # None: everything the user may read
        self.max_queue = max_queue
        self.queue: asyncio.Queue[dict] = asyncio.Queue(max_queue)
        self.last_sent = 0  # seq of the last event written to the socket: where a resume starts
        self.last_queued = 0
        self.pending: list[Event] | None = []  # live events held back while the backlog is sent; None once live
        self.dropped = asyncio.Event()

    def wants(self, topic: str) -> bool:
        return self.topics is None or any(topic_matches(t, topic) for t in self.topics)

    def subscribe(self, topic: str) -> None:
        """Narrow (the first subscription) or widen (later ones) within what the user may read."""
        self.topics = None if topic == "*" else (self.topics or set()) | {topic}

    def unsubscribe(self, topic: str) -> None:
        if self.topics is not None:
            self.topics.discard(topic)

    def offer(self, event: Event) -> None:
        """Queue an event for the socket (never blocks); a full queue drops the connection."""
        if event.seq <= self.last_queued or self.dropped.is_set():
            return
        if self.pending is not None:
            if len(self.pending) >= self.max_queue:
                self.dropped.set()
            else:
                self.pending.append(event)
            return
        self._put(event)

    def go_live(self, sent_upto: int) -> None:
        """The backlog up to `sent_upto` is queued: release the events held back meanwhile."""
        self.last_queued = max(self.last_queued, sent_upto)
        held, self.pending = self.pending or [], None
        for event in held:
            if event.seq > self.last_queued:
                self._put(event)

    async def queue_backlog(self, event: Event) -> None:
        """Queue an event of the resume backlog, waiting for room (the writer is draining the queue meanwhile)."""
        if event.seq <= self.last_queued:
            return
        if self.wants(event.topic):
            await self.queue.put(event.envelope())
        self.last_queued = event.seq

    def _put(self, event: Event) -> bool:
        if not self.wants(event.topic):
            self.last_queued = event.seq
            return True
        try:
            self.queue.put_nowait(event.envelope())
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        self.last_queued = event.seq
        return True

    def send_control(self, message: dict) -> None:
        """Queue a control message if there is room (a heartbeat may be skipped, never an event)."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            pass


class Hub:
    """The connections of this instance, indexed by user, and the highest seq handed to them."""

    def __init__(self) -> None:
        self.by_user: dict[str, set[Connection]] = {}
        self.high = 0

    def add(self, conn: Connection) -> int:
        """Register a connection; returns the seq up to which its backlog must come from the log."""
        self.by_user.setdefault(conn.user_id, set()).add(conn)
        return self.high

    def remove(self, conn: Connection) -> None:
        conns = self.by_user.get(conn.user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.by_user[conn.user_id]

    def deliver(self, events: list[Event], upto: int) -> None:
        """Offer each event to the connections of its audience (on the event loop)."""
        for event in events:
            if event.seq <= self.high:
                continue
            for user in event.audience:
                for conn in tuple(self.by_user.get(user, ())):
                    conn.offer(event)
        self.high = max(self.high, upto)

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self.by_user.values())
