"""The marketplace over REST on the real app and Postgres: search ranking and filters, requests matched from the
triage, who may bid, booking with compare-and-swap and Idempotency-Key, later transitions per role."""
from __future__ import annotations

import uuid

import pytest

from sync_server.testing import auth
from tests.server.marketplace_world import RED_FLAG_TRIAGE, add_symptom, seed, slot


@pytest.fixture
def world(db):
    return seed(db, specialty=f"cardiology-{uuid.uuid4().hex[:6]}")


def _open(client, world, patient=None, **body):
    patient = patient or world.patients[0]
    r = client.post("/api/v1/appointments", json={"description": "chest pain on stairs", **body},
                    headers=auth(patient))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _bid(client, world, name, appt_id, hours=24.0, price=80.0, key=None):
    start, end = slot(hours)
    headers = world.doctor_headers(name) | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/appointments/{appt_id}/bids", headers=headers,
                       json={"price": price, "slot_start": start, "slot_end": end, "note": "can see you"})


def test_search_ranks_by_match_then_distance_and_finds_doctors_without_location(client, db, world):
    spec = world_specialty(db, world)
    with db.admin() as conn:  # a doctor of the specialty with no place, price or hours
        conn.execute("UPDATE doctors SET latitude = NULL, longitude = NULL, price_min = NULL, working_hours = '{}' "
                     "WHERE id = %s", (world.doctors["d2"]["id"],))
    r = client.get("/api/v1/doctors/search", params={"specialty": spec, "near": "51.5,0.0"},
                   headers=auth(world.patients[0]))
    assert r.status_code == 200, r.text
    items = r.json()["data"]["items"]
    ids = [i["id"] for i in items]
    d0, d1, d2 = (str(world.doctors[n]["id"]) for n in ("d0", "d1", "d2"))
    assert ids == [d0, d1, d2]  # nearest first; the one with no location last but found
    assert 0.5 < items[0]["distance_km"] < 1.5 and 4.5 < items[1]["distance_km"] < 5.5
    assert items[2]["distance_km"] is None and items[2]["next_free_slot"] is None
    assert items[0]["next_free_slot"] is not None and items[0]["match"] == "exact"
    # A radius keeps only doctors with a place within it.
    r = client.get("/api/v1/doctors/search", params={"specialty": spec, "near": "51.5,0.0", "radius_km": 3},
                   headers=auth(world.patients[0]))
    assert [i["id"] for i in r.json()["data"]["items"]] == [d0]
    # Price and availability filters drop the doctor who has neither.
    r = client.get("/api/v1/doctors/search", params={"specialty": spec, "max_price": 1000},
                   headers=auth(world.patients[0]))
    assert set(i["id"] for i in r.json()["data"]["items"]) == {d0, d1}
    r = client.get("/api/v1/doctors/search", params={"specialty": spec, "language": "fr"},
                   headers=auth(world.patients[0]))
    assert r.json()["data"]["items"] == []


def world_specialty(db, world) -> str:
    with db.admin() as conn:
        return conn.execute("SELECT specialty FROM doctors WHERE id = %s",
                            (world.doctors["d0"]["id"],)).fetchone()["specialty"]


def test_search_rejects_bad_input_with_422(client, world):
    h = auth(world.patients[0])
    for params in ({"near": "north"}, {"near": "91,0"}, {"radius_km": 5}, {"available_from": "9999-12-31T00:00:00"},
                   {"max_price": "-1"}):
        r = client.get("/api/v1/doctors/search", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)


def test_request_from_a_symptom_takes_the_triage_and_notifies_matching_doctors(client, db, world):
    spec = world_specialty(db, world)
    sid = add_symptom(db, world.patients[0], {**RED_FLAG_TRIAGE, "specialty": spec, "urgency": "urgent"})
    appt = _open(client, world, symptom_id=str(sid), description=None)
    assert appt["status"] == "requested" and appt["specialty"] == spec and appt["urgency"] == "urgent"
    assert appt["matching"]["source"] == "triage"
    assert appt["matching"]["llm"]["status"] == "not_used"
    # Best rating first among the clinic's doctors of that specialty.
    assert appt["matched_doctor_ids"] == [str(world.doctors[n]["id"]) for n in ("d2", "d1", "d0")]


def test_another_patients_symptom_or_patient_is_refused(client, db, world):
    sid = add_symptom(db, world.patients[1], RED_FLAG_TRIAGE)
    r = client.post("/api/v1/appointments", json={"symptom_id": str(sid)}, headers=auth(world.patients[0]))
    assert r.status_code == 404
    r = client.post("/api/v1/appointments", json={"description": "x", "patient_id": str(world.patients[1])},
                    headers=auth(world.patients[0]))
    assert r.status_code == 403
    # The clinic's nurse opens one for a registered patient.
    r = client.post("/api/v1/appointments", json={"description": "dizzy", "patient_id": str(world.patients[1])},
                    headers=auth(world.nurse, "nurse"))
    assert r.status_code == 201 and r.json()["data"]["patient_id"] == str(world.patients[1])


def test_only_matched_doctors_bid(client, db, world):
    spec = world_specialty(db, world)
    appt = _open(client, world, specialty=spec)
    other = seed(db, specialty="dermatology-" + uuid.uuid4().hex[:6], n_doctors=1, n_patients=0)
    r = _bid(client, other, "d0", appt["id"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    r = client.post(f"/api/v1/appointments/{appt['id']}/bids", headers=auth(world.patients[0], "doctor"),
                    json={"price": 1, "slot_start": slot(2)[0], "slot_end": slot(2)[1]})
    assert r.status_code == 403  # a doctor claim without a directory entry
    r = _bid(client, world, "d0", appt["id"])
    assert r.status_code == 201, r.text
    bid = r.json()["data"]
    assert bid["status"] == "open" and bid["doctor_id"] == str(world.doctors["d0"]["id"])
    # The patient sees the bid on the request; a doctor sees only their own.
    seen = client.get(f"/api/v1/appointments/{appt['id']}", headers=auth(world.patients[0])).json()["data"]
    assert [b["id"] for b in seen["bids"]] == [bid["id"]]
    _bid(client, world, "d1", appt["id"], hours=30)
    mine = client.get(f"/api/v1/appointments/{appt['id']}", headers=world.doctor_headers("d1")).json()["data"]
    assert [b["doctor_id"] for b in mine["bids"]] == [str(world.doctors["d1"]["id"])]


def test_booking_is_once_and_idempotent(client, db, world):
    spec = world_specialty(db, world)
    appt = _open(client, world, specialty=spec)
    b0 = _bid(client, world, "d0", appt["id"]).json()["data"]
    b1 = _bid(client, world, "d1", appt["id"], hours=26).json()["data"]
    h = auth(world.patients[0]) | {"Idempotency-Key": "accept-" + appt["id"]}
    first = client.put(f"/api/v1/appointments/{appt['id']}", json={"status": "booked", "bid_id": b0["id"]}, headers=h)
    assert first.status_code == 200, first.text
    booked = first.json()["data"]
    assert booked["status"] == "booked" and booked["doctor_id"] == str(world.doctors["d0"]["id"])
    assert booked["scheduled_at"] is not None and booked["price"] == 80.0
    again = client.put(f"/api/v1/appointments/{appt['id']}", json={"status": "booked", "bid_id": b0["id"]}, headers=h)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == booked
    for bid in (b0, b1):  # any other accept, the same bid included, is a 409
        r = client.put(f"/api/v1/appointments/{appt['id']}", json={"status": "booked", "bid_id": bid["id"]},
                       headers=auth(world.patients[0]))
        assert r.status_code == 409 and r.json()["error"]["code"] == "ALREADY_BOOKED"
    # The same key with another body is refused.
    r = client.put(f"/api/v1/appointments/{appt['id']}", json={"status": "booked", "bid_id": b1["id"]}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    with db.admin() as conn:
        rows = conn.execute("SELECT id::text AS id, status FROM appointment_bids WHERE appointment_id = %s",
                            (appt["id"],)).fetchall()
    statuses = {r["id"]: r["status"] for r in rows}
    assert statuses == {b0["id"]: "accepted", b1["id"]: "declined"}


def test_later_transitions_follow_the_role_table(client, db, world):
    spec = world_specialty(db, world)
    appt = _open(client, world, specialty=spec)
    bid = _bid(client, world, "d0", appt["id"]).json()["data"]
    url = f"/api/v1/appointments/{appt['id']}"
    r = client.put(url, json={"status": "booked", "bid_id": bid["id"]}, headers=auth(world.patients[0]))
    assert r.status_code == 200
    r = client.put(url, json={"status": "completed"}, headers=auth(world.patients[0]))
    assert r.status_code == 409 and r.json()["error"]["code"] == "ILLEGAL_TRANSITION"
    r = client.put(url, json={"status": "checked_in"}, headers=world.doctor_headers("d0"))
    assert r.status_code == 200, r.text
    r = client.put(url, json={"status": "completed", "expected_status": "booked"}, headers=world.doctor_headers("d0"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "STALE_STATUS"
    r = client.put(url, json={"status": "completed"}, headers=world.doctor_headers("d0"))
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"
    r = client.put(url, json={"status": "checked_in"}, headers=world.doctor_headers("d1"))
    assert r.status_code == 404  # another doctor does not see it


def test_a_doctor_cannot_double_book_a_slot(client, db, world):
    spec = world_specialty(db, world)
    a1, a2 = _open(client, world, specialty=spec), _open(client, world, world.patients[1], specialty=spec)
    b1 = _bid(client, world, "d0", a1["id"], hours=48).json()["data"]
    b2 = _bid(client, world, "d0", a2["id"], hours=48).json()["data"]
    assert client.put(f"/api/v1/appointments/{a1['id']}", json={"status": "booked", "bid_id": b1["id"]},
                      headers=auth(world.patients[0])).status_code == 200
    r = client.put(f"/api/v1/appointments/{a2['id']}", json={"status": "booked", "bid_id": b2["id"]},
                   headers=auth(world.patients[1]))
    assert r.status_code == 409 and r.json()["error"]["code"] == "SLOT_TAKEN"


def test_expired_requests_take_no_bids(client, db, world):
    from sync_server.marketplace import booking

    spec = world_specialty(db, world)
    appt = _open(client, world, specialty=spec)
    with db.admin() as conn:
        conn.execute("UPDATE appointments SET expires_at = now() - interval '1 second' WHERE id = %s", (appt["id"],))
        assert booking.expire_due(conn) >= 1
    r = _bid(client, world, "d0", appt["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "ALREADY_BOOKED"
