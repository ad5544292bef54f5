"""Two server instances as separate uvicorn processes on one Postgres and one Redis: an event caused on instance 1
reaches a client on instance 2; a client that disconnects and resumes with `since` receives every event exactly
once, in order; another patient never receives it (RLS on events)."""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from sync_server import testing
from sync_server.testing import auth, token
from tests.server.marketplace_world import seed, slot

pytestmark = pytest.mark.e2e
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="module")
def two_instances(pg_url, tmp_path_factory):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis reachable at 127.0.0.1:6379")
    prefix = f"hs-test-{uuid.uuid4().hex[:8]}:"
    env = {"REDIS_URL": REDIS_URL, "HEALTHSYNC_REDIS_PREFIX": prefix, "HEALTHSYNC_RELAY_TICK_S": "0.1",
           "HEALTHSYNC_WS_HEARTBEAT_S": "30"}
    with testing.served(pg_url, tmp_path_factory.mktemp("one"), **env) as one, \
            testing.served(pg_url, tmp_path_factory.mktemp("two"), **env) as two:
        yield one, two
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def _socket(base: str, user, role="patient", since: int | None = None):
    from websockets.sync.client import connect

    url = base.replace("http://", "ws://") + "/v1/ws" + (f"?since={since}" if since is not None else "")
    return connect(url, additional_headers={"Authorization": f"Bearer {token(user, role)}"}, open_timeout=10)


def _next_event(ws) -> dict:
    while True:
        msg = json.loads(ws.recv(timeout=15))
        if msg["topic"] != "control":
            return msg


def test_events_cross_instances_resume_exactly_once_and_stay_private(two_instances, db):
    one, two = two_instances
    spec = "inst-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=3, n_patients=2)
    alice, bob = world.patients
    with _socket(two, alice) as ws_alice, _socket(two, bob) as ws_bob:
        r = httpx.post(f"{one}/api/v1/appointments", json={"description": "breathless", "specialty": spec},
                       headers=auth(alice), timeout=30)
        assert r.status_code == 201, r.text
        appt = r.json()["data"]["id"]
        first = _next_event(ws_alice)  # caused on instance 1, received on instance 2
        assert first["event"] == "appointment_update" and first["payload"]["appointment_id"] == appt
        # Bob's own request: the first thing Bob receives is his (alice's event, earlier in seq, never came).
        r = httpx.post(f"{one}/api/v1/appointments", json={"description": "cough", "specialty": spec},
                       headers=auth(bob), timeout=30)
        bobs = _next_event(ws_bob)
        assert bobs["payload"]["appointment_id"] == r.json()["data"]["id"] and bobs["seq"] > first["seq"]
        assert bobs["payload"]["patient_id"] == str(bob)
    # Alice is away: three doctors bid on instance 1, she books on instance 1.
    bids = []
    for i in range(3):
        start, end = slot(40 + i)
        r = httpx.post(f"{one}/api/v1/appointments/{appt}/bids", headers=world.doctor_headers(f"d{i}"), timeout=30,
                       json={"price": 90 + i, "slot_start": start, "slot_end": end})
        assert r.status_code == 201, r.text
        bids.append(r.json()["data"]["id"])
    r = httpx.put(f"{one}/api/v1/appointments/{appt}", json={"status": "booked", "bid_id": bids[2]},
                  headers=auth(alice), timeout=30)
    assert r.status_code == 200, r.text
    with _socket(two, alice, since=first["seq"]) as ws:
        missed = [_next_event(ws) for _ in range(4)]
        assert [m["event"] for m in missed] == ["appointment_bid"] * 3 + ["appointment_update"]
        assert [m["payload"].get("bid_id") for m in missed] == bids + [bids[2]]
        seqs = [m["seq"] for m in missed]
        assert seqs == sorted(set(seqs)) and seqs[0] > first["seq"]
        # Live again: the next event follows, nothing repeated.
        httpx.put(f"{one}/api/v1/appointments/{appt}", json={"status": "checked_in"},
                  headers=world.doctor_headers("d2"), timeout=30)
        live = _next_event(ws)
        assert live["payload"]["status"] == "checked_in" and live["seq"] > seqs[-1]


def _wait_for(ws, pred) -> dict:
    """The first event matching `pred` (events before it are other traffic of this user); bounded by recv's timeout."""
    for _ in range(200):
        msg = _next_event(ws)
        if pred(msg):
            return msg
    raise AssertionError("no such event")


def test_end_to_end_kiosk_alert_request_bids_phone_acceptance(two_instances, db, tmp_path):
    """A nurse records a red-flag symptom at a kiosk → sync → alert on the doctor's socket → a request → three
    doctors bid → the patient accepts on their phone (offline, then sync) → appointment_update on every socket →
    the booking syncs to the kiosk and the phone. Server processes: two uvicorns; devices: real edge stores
    syncing over HTTP."""
    import secrets

    from edge.keys import KeySource
    from edge.store import Store
    from edge.sync_client import SyncClient, SyncOptions
    from edge.voice.triage import triage

    one, two = two_instances
    world = seed(db, specialty="emergency medicine", n_doctors=3, n_patients=1)
    patient, nurse = world.patients[0], world.nurse
    d = {n: world.doctors[n]["user"] for n in ("d0", "d1", "d2")}

    def device(name, user, role, base, clinic=None):
        store = Store.open(tmp_path / f"{name}.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
        if clinic:
            store.set_meta("clinic_id", str(clinic))
        else:
            store.set_meta("user_id", str(user))
        client = SyncClient(store, token(user, role), http=httpx.Client(base_url=base, timeout=30),
                            options=SyncOptions(attempts=2, backoff_s=0.05))
        client.enroll(base, name=name)
        return client

    kiosk = device("kiosk", nurse, "nurse", one, clinic=world.clinic)
    phone = device("phone", patient, "patient", two)
    try:
        with _socket(two, d["d0"], "doctor") as ws_d0, _socket(one, d["d1"], "doctor") as ws_d1, \
                _socket(two, patient) as ws_patient, _socket(one, nurse, "nurse") as ws_nurse:
            text = "He has crushing chest pain and is short of breath."
            sym = kiosk.store.symptoms.add({"user_id": str(patient), "description": text, "severity": 9,
                                            "triage": triage(text).to_dict()})
            assert kiosk.run().rejected == 0
            alert = _wait_for(ws_d0, lambda m: m["event"] == "health_alert")
            assert alert["payload"]["symptom_id"] == str(sym.id) and alert["payload"]["patient_id"] == str(patient)
            r = httpx.post(f"{one}/api/v1/appointments", json={"patient_id": str(patient), "symptom_id": str(sym.id)},
                           headers=auth(nurse, "nurse"), timeout=30)
            assert r.status_code == 201, r.text
            appt = r.json()["data"]
            assert appt["specialty"] == "emergency medicine" and appt["urgency"] == "emergency"
            notified = _wait_for(ws_d0, lambda m: m["event"] == "appointment_update")
            assert notified["payload"]["appointment_id"] == appt["id"]
            bids = {}
            for i, name in enumerate(("d0", "d1", "d2")):
                start, end = slot(3 + i)
                r = httpx.post(f"{one}/api/v1/appointments/{appt['id']}/bids", headers=world.doctor_headers(name),
                               json={"price": 100 + i, "slot_start": start, "slot_end": end}, timeout=30)
                assert r.status_code == 201, r.text
                bids[name] = r.json()["data"]["id"]
            seen = [_wait_for(ws_patient, lambda m: m["event"] == "appointment_bid") for _ in range(3)]
            assert sorted(m["payload"]["bid_id"] for m in seen) == sorted(bids.values())
            # The patient accepts d1's bid on the phone, offline, then syncs.
            phone.run()
            phone.store.appointments.update(appt["id"], status="booked", bid_id=bids["d1"])
            assert phone.run().rejected == 0
            booked = [_wait_for(ws, lambda m: m["event"] == "appointment_update"
                                and m["payload"]["status"] == "booked") for ws in (ws_patient, ws_d1, ws_nurse)]
            assert {m["seq"] for m in booked} == {booked[0]["seq"]}
            assert booked[0]["payload"]["doctor_id"] == str(world.doctors["d1"]["id"])
        for dev in (kiosk, phone):
            assert dev.run().rejected == 0
            mine = dev.store.appointments.get(appt["id"])
            assert mine.status == "booked" and mine.doctor_id == world.doctors["d1"]["id"]
    finally:
        for dev in (kiosk, phone):
            dev.store.close()
            dev.http.close()
