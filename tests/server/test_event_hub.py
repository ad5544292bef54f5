"""The hub in isolation: a slow consumer is dropped with its resume point while the others get every event; topic
narrowing; live events held back while a resume backlog is sent are released once, in order."""
from __future__ import annotations

import asyncio

from sync_server.events.hub import Connection, Hub
from sync_server.events.log import Event


def _ev(seq: int, user: str = "u", topic: str = "appointment:1") -> Event:
    return Event(seq, "appointment_update", topic, {"n": seq}, None, frozenset({user}))


def test_a_slow_consumer_is_dropped_with_its_resume_point_and_slows_no_one():
    async def scenario():
        hub = Hub()
        slow, fast = Connection("u", max_queue=3), Connection("u", max_queue=1000)
        for c in (slow, fast):
            hub.add(c)
            c.go_live(0)
        slow.last_sent = 2  # it wrote 2 events, then stopped reading
        hub.deliver([_ev(s) for s in range(1, 11)], 10)  # never waits on anyone
        assert slow.dropped.is_set() and slow.last_sent == 2
        assert fast.queue.qsize() == 10 and not fast.dropped.is_set()
        assert [fast.queue.get_nowait()["seq"] for _ in range(10)] == list(range(1, 11))

    asyncio.run(scenario())


def test_only_the_audience_receives_and_topics_narrow():
    async def scenario():
        hub = Hub()
        mine, other = Connection("u", topics=["patient"]), Connection("v")
        for c in (mine, other):
            hub.add(c)
            c.go_live(0)
        hub.deliver([_ev(1), _ev(2, topic="patient:9"), _ev(3, user="w")], 3)
        assert [mine.queue.get_nowait()["seq"] for _ in range(mine.queue.qsize())] == [2]
        assert other.queue.qsize() == 0
        mine.subscribe("appointment")  # widens
        hub.deliver([_ev(4), _ev(5, topic="patient:9")], 5)
        assert [mine.queue.get_nowait()["seq"] for _ in range(mine.queue.qsize())] == [4, 5]

    asyncio.run(scenario())


def test_live_events_during_a_backlog_come_once_after_it():
    async def scenario():
        hub = Hub()
        hub.deliver([], 5)
        conn = Connection("u")
        upto = hub.add(conn)
        assert upto == 5
        hub.deliver([_ev(6), _ev(7)], 7)  # arrive while the backlog (…, 5] is being read
        for s in (3, 4, 5):
            await conn.queue_backlog(_ev(s))
        conn.go_live(upto)
        hub.deliver([_ev(7), _ev(8)], 8)  # 7 again (a replayed batch) is not sent twice
        assert [conn.queue.get_nowait()["seq"] for _ in range(conn.queue.qsize())] == [3, 4, 5, 6, 7, 8]

    asyncio.run(scenario())
