"""Races over real HTTP (uvicorn on loopback, a pool of 20 connections, 50 client threads released together):
one booking of a request, one booking of a doctor's slot, one row for a retried POST."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sync_server import testing
from sync_server.app import create_app
from sync_server.events.runtime import RealtimeSettings
from sync_server.testing import auth
from tests.server.marketplace_world import seed, slot

N = 50


@pytest.fixture(scope="module")
def live(pg_url):
    app = create_app(testing.settings_for(pg_url, pool_max_size=20))
    app.state.realtime_settings = RealtimeSettings(enabled=False)
    with testing.serve_in_thread(app) as url:
        yield url
    app.state.db.close()


def _together(calls):
    """Run the calls from N threads released at once; their answers in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            return call(http)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _unexpected(answers) -> str:
    """The first few answers that were neither the winner nor a 409, for the failure message."""
    return "; ".join(f"{a.status_code} {a.text[:200]}" for a in answers if a.status_code not in (200, 409))[:1000]


def _request(url, world, patient, spec):
    r = httpx.post(f"{url}/api/v1/appointments", json={"description": "race", "specialty": spec},
                   headers=auth(patient), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def _bid(url, world, name, appt, hours):
    start, end = slot(hours)
    r = httpx.post(f"{url}/api/v1/appointments/{appt}/bids", headers=world.doctor_headers(name), timeout=30,
                   json={"price": 50, "slot_start": start, "slot_end": end})
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_fifty_accepts_of_different_bids_book_once(live, db):
    spec = "race-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=5, n_patients=1)
    patient = world.patients[0]
    appt = _request(live, world, patient, spec)
    bids = [_bid(live, world, f"d{i % 5}", appt, 24 + i) for i in range(N)]
    answers = _together([lambda h, b=b: h.put(f"{live}/api/v1/appointments/{appt}", headers=auth(patient),
                                              json={"status": "booked", "bid_id": b}) for b in bids])
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * (N - 1), _unexpected(answers)
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"ALREADY_BOOKED"}
    with db.admin() as conn:
        statuses = [r["status"] for r in conn.execute("SELECT status FROM appointment_bids WHERE appointment_id = %s",
                                                      (appt,))]
        booked = conn.execute("SELECT status, bid_id::text AS bid FROM appointments WHERE id = %s",
                              (appt,)).fetchone()
    winner = next(a for a in answers if a.status_code == 200).json()["data"]["bid_id"]
    assert sorted(statuses) == ["accepted"] + ["declined"] * (N - 1)
    assert booked == {"status": "booked", "bid": winner}


def test_fifty_bookings_of_one_doctors_slot_make_one(live, db):
    spec = "slot-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=1, n_patients=N)
    appts = [_request(live, world, p, spec) for p in world.patients]
    bids = [_bid(live, world, "d0", a, 72) for a in appts]  # the same slot on every request
    answers = _together([lambda h, a=a, b=b, p=p: h.put(f"{live}/api/v1/appointments/{a}", headers=auth(p),
                                                         json={"status": "booked", "bid_id": b})
                         for a, b, p in zip(appts, bids, world.patients, strict=True)])
    assert sorted(a.status_code for a in answers) == [200] + [409] * (N - 1), _unexpected(answers)
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"SLOT_TAKEN"}
    with db.admin() as conn:
        n = conn.execute("SELECT count(*) AS n FROM appointments WHERE doctor_id = %s AND status = 'booked'",
                         (world.doctors["d0"]["id"],)).fetchone()["n"]
    assert n == 1


def _patient_claims(patient) -> dict:
    return {"sub": str(patient), "role": "authenticated", "aud": "authenticated", "app_metadata": {"role": "patient"}}


def test_a_second_booking_of_a_doctor_queues_on_the_doctors_lock_not_on_the_first_ones_index_entry(live, db):
    """Why 50 racing bookings cannot deadlock (CI once answered 503 DeadlockDetected): the exclusion constraint checks
    after writing its index entry, so two bookings written at once each waited on the other's. With migration 0094 a
    booking first takes its doctor's advisory lock: the second one waits there, then meets the first one committed."""
    spec = "queue-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=1, n_patients=2)
    appts = [_request(live, world, p, spec) for p in world.patients]
    bids = [_bid(live, world, "d0", a, 96) for a in appts]
    book = "UPDATE appointments SET status = 'booked', bid_id = %s WHERE id = %s"
    second: dict = {}

    def book_second():
        try:
            with db.session("authenticated", _patient_claims(world.patients[1])) as conn:
                second["pid"] = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
                conn.execute(book, (bids[1], appts[1]))
        except Exception as exc:  # noqa: BLE001 - the answer is what the test reads
            second["error"] = exc

    with db.session("authenticated", _patient_claims(world.patients[0])) as first:
        first.execute(book, (bids[0], appts[0]))  # booked, not yet committed
        waiter = threading.Thread(target=book_second)
        waiter.start()
        waiting = None
        for _ in range(200):
            if "pid" in second:
                with db.admin() as conn:
                    waiting = conn.execute("SELECT l.locktype FROM pg_locks l WHERE l.pid = %s AND NOT l.granted",
                                           (second["pid"],)).fetchone()
                if waiting:
                    break
            threading.Event().wait(0.02)
        assert waiting is not None and waiting["locktype"] == "advisory", waiting
    waiter.join(10)
    assert getattr(second.get("error"), "code", None) == "SLOT_TAKEN"


def test_a_retried_post_with_one_key_answers_the_same_with_one_row(live, db):
    world = seed(db, n_doctors=0, n_patients=1)
    patient = world.patients[0]
    reason = f"retried {uuid.uuid4()}"
    headers = auth(patient) | {"Idempotency-Key": str(uuid.uuid4())}
    answers = _together([lambda h: h.post(f"{live}/api/v1/appointments", headers=headers,
                                          json={"description": reason})] * 20)
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["data"]["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    with db.admin() as conn:
        assert conn.execute("SELECT count(*) AS n FROM appointments WHERE reason = %s",
                            (reason,)).fetchone()["n"] == 1
