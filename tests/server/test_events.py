"""The event log and /v1/ws on the real app: exact seq order across concurrent transactions (the readiness rule),
RLS on events, live delivery, resume with `since` exactly once and in order, subscribe narrowing, auth."""
from __future__ import annotations

import uuid

import pytest
from starlette.websockets import WebSocketDisconnect

from sync_server import events
from sync_server.events import log as event_log
from sync_server.testing import auth, token
from tests.server.marketplace_world import seed, slot


def _high(db) -> int:
    with db.admin() as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) AS s FROM event_log").fetchone()["s"]


def _emit(conn, patient, n=0) -> int:
    return events.emit(conn, event="health_alert", topic=f"patient:{patient}", payload={"n": n}, patient_id=patient,
                       audience=[patient])


def test_a_later_number_waits_for_an_earlier_open_transaction(db):
    """Numbers are drawn in call order but commit in any order: an event is handed on only when nothing below it
    can still commit. Without the readiness rule the reader would take b and skip a for ever."""
    patient = uuid.uuid4()
    start = _high(db)
    with db.admin() as t1:
        a = _emit(t1, patient, 1)
        with db.admin() as t2:
            b = _emit(t2, patient, 2)
        assert b > a
        with db.admin() as reader:
            assert [e.seq for e in event_log.read_ready(reader, start) if e.patient_id == str(patient)] == []
    with db.admin() as reader:
        assert [e.seq for e in event_log.read_ready(reader, start) if e.patient_id == str(patient)] == [a, b]


def test_a_rolled_back_event_leaves_a_gap_that_does_not_block(db):
    patient = uuid.uuid4()
    start = _high(db)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with db.admin() as t1:
            _emit(t1, patient, 1)
            with db.admin() as t2:
                b = _emit(t2, patient, 2)
            raise Abort
    with db.admin() as reader:
        assert [e.seq for e in event_log.read_ready(reader, start) if e.patient_id == str(patient)] == [b]


def test_rls_on_events_and_emit_as_a_caller(db):
    world = seed(db, n_doctors=1, n_patients=2)
    p0, p1 = world.patients
    with db.session("authenticated", {"sub": str(world.nurse), "role": "authenticated",
                                      "app_metadata": {"role": "nurse"}}) as conn:
        seq = events.emit(conn, event="health_alert", topic=f"patient:{p0}", payload={"x": 1}, patient_id=p0,
                          audience=[p0, world.nurse, uuid.uuid4()])  # a stranger in the audience is cut out
    with db.admin() as conn:
        audience = conn.execute("SELECT audience::text[] AS a FROM event_log WHERE seq = %s", (seq,)).fetchone()["a"]
    assert set(audience) == {str(p0), str(world.nurse)}
    for who, sees in ((p0, True), (p1, False), (world.nurse, True)):
        claims = {"sub": str(who), "role": "authenticated", "app_metadata": {"role": "patient"}}
        with db.session("authenticated", claims) as conn:
            got = [e.seq for e in event_log.read_for_caller(conn, seq - 1, seq)]
        assert (got == [seq]) is sees, who
    stranger = {"sub": str(uuid.uuid4()), "role": "authenticated", "app_metadata": {"role": "patient"}}
    from protocol.errors import ForbiddenError

    with pytest.raises(ForbiddenError):
        with db.session("authenticated", stranger) as conn:
            events.emit(conn, event="health_alert", topic="patient:x", payload={}, patient_id=p0)


def _events(ws, n):
    out = []
    while len(out) < n:
        m = ws.receive_json()
        if m["topic"] != "control":
            out.append(m)
    return out


def test_socket_gets_live_events_then_resumes_exactly_once_in_order(client, db):
    spec = "ws-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=2, n_patients=1)
    patient = world.patients[0]
    with client.websocket_connect(f"/v1/ws?access_token={token(patient)}") as ws:
        r = client.post("/api/v1/appointments", json={"description": "palpitations", "specialty": spec},
                        headers=auth(patient))
        assert r.status_code == 201
        appt = r.json()["data"]["id"]
        (created,) = _events(ws, 1)
        assert created["event"] == "appointment_update" and created["payload"]["status"] == "requested"
        assert created["topic"] == f"appointment:{appt}"
    # Missed while away: two bids and the booking.
    bids = []
    for i, name in enumerate(("d0", "d1")):
        start, end = slot(20 + i)
        r = client.post(f"/api/v1/appointments/{appt}/bids", headers=world.doctor_headers(name),
                        json={"price": 60 + i, "slot_start": start, "slot_end": end})
        assert r.status_code == 201, r.text
        bids.append(r.json()["data"]["id"])
    assert client.put(f"/api/v1/appointments/{appt}", json={"status": "booked", "bid_id": bids[1]},
                      headers=auth(patient)).status_code == 200
    with client.websocket_connect(f"/v1/ws?since={created['seq']}",
                                  headers={"Authorization": f"Bearer {token(patient)}"}) as ws:
        missed = _events(ws, 3)
        assert [m["event"] for m in missed] == ["appointment_bid", "appointment_bid", "appointment_update"]
        assert [m["seq"] for m in missed] == sorted(m["seq"] for m in missed) and missed[0]["seq"] > created["seq"]
        assert missed[2]["payload"]["status"] == "booked" and missed[2]["payload"]["bid_id"] == bids[1]
        ws.send_json({"action": "ping"})
        pong = ws.receive_json()
        assert pong["event"] == "pong" and pong["payload"]["last_seq"] == missed[-1]["seq"]
    # The losing doctor hears only about their own bid; the booked one gets the update.
    doctor = token(world.doctors["d0"]["user"], "doctor")
    with client.websocket_connect(f"/v1/ws?since={created['seq'] - 1}&access_token={doctor}") as ws:
        got = _events(ws, 3)
        assert [m["event"] for m in got] == ["appointment_update", "appointment_bid", "appointment_bid"]
        assert got[2]["payload"]["status"] == "declined"
        assert all(m["payload"].get("bid_id") in (None, bids[0]) for m in got[1:])


def test_subscribe_narrows_and_widens(client, db):
    world = seed(db, n_doctors=1, n_patients=1)
    patient = world.patients[0]
    with client.websocket_connect(f"/v1/ws?access_token={token(patient)}") as ws:
        ws.send_json({"action": "subscribe", "topic": "patient"})
        assert ws.receive_json()["payload"]["topics"] == ["patient"]
        client.post("/api/v1/appointments", json={"description": "rash"}, headers=auth(patient))  # not this topic
        with db.admin() as conn:
            seq = _emit(conn, patient)
        (got,) = _events(ws, 1)
        assert got["seq"] == seq and got["event"] == "health_alert"
        ws.send_json({"action": "subscribe", "topic": "*"})
        assert ws.receive_json()["payload"]["topics"] is None


def test_socket_refuses_a_missing_or_bad_token(client):
    for url in ("/v1/ws", "/v1/ws?access_token=nope", f"/v1/ws?since=-1&access_token={token(uuid.uuid4())}"):
        with client.websocket_connect(url) as ws:
            msg = ws.receive_json()
            assert msg["topic"] == "control" and msg["event"] == "error"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code in (4401, 4400)


def test_a_subscriber_that_missed_a_batch_reads_the_gap_from_the_log(db, pg_url):
    """Redis pub/sub loses messages across reconnects: a batch starting past what an instance has makes it read the
    missing range from the log first. Without that, the events of the lost batch would never be delivered."""
    from sync_server.events.relay import Subscriber

    patient = uuid.uuid4()
    with db.admin() as conn:
        seqs = [_emit(conn, patient, n) for n in range(3)]
    delivered: list[tuple[list[int], int]] = []
    sub = Subscriber(pg_url, lambda: None, "unused", lambda evs, upto: delivered.append(([e.seq for e in evs], upto)))
    sub.high = seqs[0] - 1
    last = {"seq": seqs[2], "event": "health_alert", "topic": "t", "payload": {}, "patient_id": None,
            "audience": [str(patient)]}
    with db.admin() as conn:  # the batch of seqs[0..1] was lost; the next one arrives
        sub._take(conn, {"after": seqs[1], "upto": seqs[2], "events": [last]})
        sub._take(conn, {"after": seqs[1], "upto": seqs[2], "events": [last]})  # a repeat changes nothing
    assert delivered == [(seqs[:2], seqs[1]), ([seqs[2]], seqs[2])]


def test_a_resume_from_before_the_retained_log_is_told_events_were_pruned(client, db):
    """Pruned events cannot be replayed: a resume from before them gets EVENTS_PRUNED (reload the state) and then the
    retained events, instead of a backlog that silently looks complete."""
    from sync_server import jobs

    patient = uuid.uuid4()
    with db.admin() as conn:
        old, kept = _emit(conn, patient, 1), _emit(conn, patient, 2)
        conn.execute("UPDATE event_log SET at = now() - interval '30 days' WHERE seq = %s", (old,))
    with db.admin() as conn:
        assert jobs.run_round(conn, retention_days=7)["pruned"] >= 1

    def first_messages(since, n):
        with client.websocket_connect(f"/v1/ws?since={since}&access_token={token(patient)}") as ws:
            out = []
            while len(out) < n:
                m = ws.receive_json()
                if m["event"] != "heartbeat":
                    out.append(m)
            return out

    warned, replayed = first_messages(old - 1, 2)
    assert (warned["topic"], warned["event"], warned["payload"]["code"]) == ("control", "error", "EVENTS_PRUNED")
    assert warned["payload"]["resume_from"] >= old
    assert (replayed["seq"], replayed["payload"]) == (kept, {"n": 2})
    # A resume from after the pruned part is complete: no warning, just the events.
    (only,) = first_messages(old, 1)
    assert (only["seq"], only["event"]) == (kept, "health_alert")


def test_an_emitter_that_starts_after_the_holders_were_read_is_not_skipped(db):
    """The interleaving bench_load hit under overload: the reader reads the lock holders; then one transaction
    numbers an event and stays open, and another numbers a later one (waiting for the first) and commits; then the
    reader reads the log. The later event must wait: handing it on would skip the earlier one for good."""
    patient = uuid.uuid4()
    start = _high(db)
    with db.admin() as reader, db.admin() as early:
        raw_execute = reader.execute
        interleaved: list[int] = []

        def execute(query, params=None, **kw):
            result = raw_execute(query, params, **kw)
            if query == event_log._HOLDERS and not interleaved:  # right after the holders were read
                interleaved.append(_emit(early, patient, 1))
                with db.admin() as late:
                    interleaved.append(_emit(late, patient, 2))
            return result

        reader.execute = execute
        assert [e.seq for e in event_log.read_ready(reader, start) if e.patient_id == str(patient)] == []
        reader.execute = raw_execute
    a, b = interleaved
    with db.admin() as reader:
        assert [e.seq for e in event_log.read_ready(reader, start) if e.patient_id == str(patient)] == [a, b]
