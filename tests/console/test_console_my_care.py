"""The patient's console screen /console/my-care through the real app (httpx, no browser): a patient signs in to
their own screen only, sees their open requests with every bid, accepts one once (the same Idempotency-Key
replays the first answer, any other accept is told it is already booked), asks for care, and never sees another
patient's request. The live half is test_console_patient_live.py."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from sync_server import testing
from tests.console.conftest import matched_doctor, page_csrf, patient_user, sign_in, signed_in_as


def _bid(http, doctor: uuid.UUID, appointment: str, price: float, hour: int = 10, note: str | None = None) -> dict:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(hour=hour, minute=0, second=0, microsecond=0)
    r = http.post(f"/api/v1/appointments/{appointment}/bids", headers=testing.auth(doctor, "doctor"),
                  json={"price": price, "slot_start": start.isoformat(),
                        "slot_end": (start + dt.timedelta(minutes=30)).isoformat(), "note": note})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _request(http, patient: uuid.UUID, specialty: str, text: str) -> str:
    r = http.post("/api/v1/appointments", headers=testing.auth(patient),
                  json={"description": text, "specialty": specialty})
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def _accept_key(html: str, bid: str) -> str:
    form = re.search(r'<form[^>]*accept"[^>]*?hx-headers=\'\{"Idempotency-Key": "([^"]+)"\}\''
                     r'[^>]*>\s*<input[^>]*>\s*<input type="hidden" name="bid_id" value="' + bid, html)
    assert form, "no accept form for the bid"
    return form.group(1)


def test_a_patient_signs_in_to_their_own_screen_only(console_app, world, db):
    _, email = patient_user(db, world.clinic, "Paula Patient")
    c = signed_in_as(console_app, email)
    r = sign_in(c, email)
    assert r.headers["location"] == "/console/my-care"
    page = c.get("/console/my-care")
    assert page.status_code == 200 and "My open requests" in page.text and "My care" in page.text
    staff_screens = ("/console/patients", "/console/queue", "/console/requests", "/console/appointments",
                     "/console/devices", "/console/manage", "/console/import", f"/console/patients/{world.mine[0]}")
    for staff_screen in staff_screens:
        assert c.get(staff_screen).status_code == 403, staff_screen
    assert "Open requests" not in page.text and "Devices" not in page.text  # no staff menu


def test_open_requests_show_every_bid_and_accepting_books_once(console_app, world, db, browser_client):
    http = browser_client
    patient, email = patient_user(db, world.clinic, "Petra Pick")
    doctor, _, specialty = matched_doctor(db, world.clinic, "Dr Mo Match")
    other, _ = patient_user(db, world.clinic, "Oscar Other")
    mine = _request(http, patient, specialty, "short of breath on the stairs")
    theirs = _request(http, other, specialty, "oscar's private complaint")
    first = _bid(http, doctor, mine, 85, note="Bring your inhaler")
    second = _bid(http, doctor, mine, 120, hour=14)
    _bid(http, doctor, theirs, 60)

    c = signed_in_as(console_app, email)
    page = c.get("/console/my-care").text
    assert page.count('class="bid"') == 2 and "85.00" in page and "120.00" in page and "Bring your inhaler" in page
    assert "Dr Mo Match" in page and specialty in page
    assert theirs not in page and "oscar" not in page.lower()
    key = _accept_key(page, first["id"])

    form = {"csrf": page_csrf(page), "bid_id": first["id"]}
    answers = [c.post(f"/console/my-care/{mine}/accept", data=form, headers={"Idempotency-Key": key,
                                                                             "HX-Request": "true"})
               for _ in range(2)]  # a double click: the same rendered form twice
    for r in answers:
        assert r.status_code == 200 and "Booked." in r.text, r.text
        assert 'data-appointment="' + mine in r.text and "booked" in r.text
    with db.admin() as conn:
        rows = conn.execute("SELECT status, bid_id FROM appointments WHERE id = %s", (mine,)).fetchall()
        bids = {r["id"]: r["status"] for r in conn.execute(
            "SELECT id, status FROM appointment_bids WHERE appointment_id = %s", (mine,)).fetchall()}
        updates = conn.execute("SELECT count(*) AS n FROM audit_log WHERE table_name = 'appointments' AND "
                               "action = 'update' AND row_id = %s", (mine,)).fetchone()["n"]
    assert [(r["status"], str(r["bid_id"])) for r in rows] == [("booked", first["id"])]
    assert bids == {uuid.UUID(first["id"]): "accepted", uuid.UUID(second["id"]): "declined"}
    assert updates == 1  # booked once, audited once

    # Another accept (a new key: another tab, the other bid) is told plainly that it is already booked.
    r = c.post(f"/console/my-care/{mine}/accept", data={"csrf": page_csrf(page), "bid_id": second["id"]},
               headers={"Idempotency-Key": f"other-{uuid.uuid4()}"})
    assert r.status_code == 409 and "already booked" in r.text
    with db.admin() as conn:
        assert conn.execute("SELECT bid_id FROM appointments WHERE id = %s", (mine,)).fetchone()["bid_id"] == \
            uuid.UUID(first["id"])


def test_a_patient_cannot_accept_a_bid_on_another_patients_request(console_app, world, db, browser_client):
    http = browser_client
    patient, email = patient_user(db, world.clinic, "Ivy Intruder")
    doctor, _, specialty = matched_doctor(db, world.clinic, "Dr Tess Target")
    victim, _ = patient_user(db, world.clinic, "Vera Victim")
    theirs = _request(http, victim, specialty, "vera's complaint")
    bid = _bid(http, doctor, theirs, 50)
    c = signed_in_as(console_app, email)
    page = c.get("/console/my-care").text
    r = c.post(f"/console/my-care/{theirs}/accept", data={"csrf": page_csrf(page), "bid_id": bid["id"]},
               headers={"Idempotency-Key": "hand-made"})
    assert r.status_code in (403, 404) and "Not booked" in r.text
    assert "vera" not in r.text.lower()
    with db.admin() as conn:
        assert conn.execute("SELECT status FROM appointments WHERE id = %s", (theirs,)).fetchone()["status"] == \
            "requested"


def test_accepting_needs_the_session_csrf_token(console_app, world, db):
    _, email = patient_user(db, world.clinic, "Cora Csrf")
    c = signed_in_as(console_app, email)
    r = c.post(f"/console/my-care/{uuid.uuid4()}/accept", data={"csrf": "forged", "bid_id": str(uuid.uuid4())})
    assert r.status_code == 403
    r = c.post("/console/my-care/request", data={"description": "x"})
    assert r.status_code == 403


def test_asking_for_care_opens_a_matched_request_once(console_app, world, db):
    patient, email = patient_user(db, world.clinic, "Aska Ask")
    doctor, _, specialty = matched_doctor(db, world.clinic, "Dr Ann Answer")
    c = signed_in_as(console_app, email)
    page = c.get("/console/my-care").text
    form = {"csrf": page_csrf(page), "description": "a rash that will not go away", "specialty": specialty}
    for _ in range(2):  # a retried submission of one rendered form
        r = c.post("/console/my-care/request", data=form, headers={"Idempotency-Key": "ask-1", "HX-Request": "true"})
        assert r.status_code == 200 and "Request sent" in r.text and "a rash that will not go away" in r.text
    with db.admin() as conn:
        rows = conn.execute("SELECT a.id, m.doctor_id FROM appointments a LEFT JOIN appointment_matches m ON "
                            "m.appointment_id = a.id WHERE a.patient_id = %s", (patient,)).fetchall()
    assert len(rows) == 1 and rows[0]["doctor_id"] is not None  # one request, matched by the marketplace's rules
    r = c.post("/console/my-care/request", data={"csrf": page_csrf(page), "description": "  "})
    assert r.status_code == 422 and "Describe what is wrong" in r.text
