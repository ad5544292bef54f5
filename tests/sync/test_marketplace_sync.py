"""Marketplace moves made on an offline device reach the server through sync with the same rules as REST (the
database's triggers), and red-flag symptoms raise health alerts for the care team in the push's transaction."""
from __future__ import annotations

import uuid

from edge.voice import triage as voice_triage
from sync_server import jobs
from sync_server.testing import auth, token
from tests.server.marketplace_world import seed, slot


def _bid(http, world, name, appt_id, hours):
    start, end = slot(hours)
    r = http.post(f"/api/v1/appointments/{appt_id}/bids", headers=world.doctor_headers(name),
                  json={"price": 70, "slot_start": start, "slot_end": end})
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_an_offline_request_and_acceptance_get_the_rest_rules_and_a_receipt(devices, http, db):
    spec = "sync-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=2, n_patients=1)
    patient = world.patients[0]
    phone, tablet = devices.new(patient), devices.new(patient)
    appt = phone.store.appointments.add({"patient_id": str(patient), "status": "requested", "specialty": spec,
                                         "reason": "chest tightness when walking"})
    result = phone.run()
    assert result.rejected == 0 and result.accepted >= 1
    with db.admin() as conn:
        matched = {r["doctor_id"] for r in conn.execute(
            "SELECT doctor_id FROM appointment_matches WHERE appointment_id = %s", (appt.id,))}
    assert matched == {d["id"] for d in world.doctors.values()}  # matched by the same rules as a REST request
    b0, b1 = _bid(http, world, "d0", appt.id, 30), _bid(http, world, "d1", appt.id, 31)
    tablet.run()  # the tablet has the open request, then goes offline
    phone.store.appointments.update(appt.id, status="booked", bid_id=b0)
    tablet.store.appointments.update(appt.id, status="booked", bid_id=b1)  # a stale second acceptance
    assert phone.run().rejected == 0
    with db.admin() as conn:
        row = conn.execute("SELECT status, doctor_id, bid_id, scheduled_at FROM appointments WHERE id = %s",
                           (appt.id,)).fetchone()
    assert row["status"] == "booked" and row["doctor_id"] == world.doctors["d0"]["id"] and str(row["bid_id"]) == b0
    stale = tablet.run()
    assert stale.rejected == 1
    assert [tuple(r) for r in tablet.store.query("SELECT code FROM quarantine")] == [("ALREADY_BOOKED",)]
    # Both devices end with the server's booking (the rejection carried the row; the phone pulled it).
    for device in (phone, tablet):
        device.run()
        mine = device.store.appointments.get(appt.id)
        assert mine.status == "booked" and mine.doctor_id == world.doctors["d0"]["id"] and str(mine.bid_id) == b0


def test_a_red_flag_symptom_alerts_the_care_team_which_acknowledges_it(devices, http, db):
    world = seed(db, n_doctors=1, n_patients=1)
    patient, doctor = world.patients[0], world.doctors["d0"]["user"]
    phone = devices.new(patient)
    text = "I have crushing chest pain and I am short of breath."
    with http.websocket_connect(f"/v1/ws?access_token={token(doctor, 'doctor')}") as ws:
        result = voice_triage.triage(text)
        assert result.red_flags  # the on-device rules flag it
        sym = phone.store.symptoms.add({"user_id": str(patient), "description": text, "severity": 9,
                                        "triage": result.to_dict()})
        phone.store.symptoms.add({"user_id": str(patient), "description": "a mild itch", "severity": 1,
                                  "triage": voice_triage.triage("a mild itch on my arm").to_dict()})
        assert phone.run().rejected == 0
        msg = ws.receive_json()
        while msg["topic"] == "control":
            msg = ws.receive_json()
    assert msg["event"] == "health_alert" and msg["topic"] == f"patient:{patient}"
    assert msg["payload"]["symptom_id"] == str(sym.id) and msg["payload"]["status"] == "raised"
    assert [f["id"] for f in msg["payload"]["red_flags"]] == [f.id for f in result.red_flags]
    alert = msg["payload"]["alert_id"]
    with db.admin() as conn:  # one alert: the mild symptom raised none
        assert conn.execute("SELECT count(*) AS n FROM health_alerts WHERE user_id = %s",
                            (patient,)).fetchone()["n"] == 1
    # Not acknowledged in time: escalated by the server's job round.
    with db.admin() as conn:
        conn.execute("UPDATE app.settings SET value = '0' WHERE key = 'alert_escalate_seconds'")
    try:
        with db.admin() as conn:
            done = jobs.run_round(conn)
    finally:
        with db.admin() as conn:
            conn.execute("UPDATE app.settings SET value = '300' WHERE key = 'alert_escalate_seconds'")
    assert done is not None and done["escalated"] >= 1
    r = http.post(f"/api/v1/alerts/{alert}/acknowledge", headers=auth(patient))
    assert r.status_code == 403  # the patient is not their own care team
    r = http.post(f"/api/v1/alerts/{alert}/acknowledge", headers=auth(doctor, "doctor"))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["acknowledged_by"] == str(doctor) and r.json()["data"]["level"] == 2
    assert http.post(f"/api/v1/alerts/{alert}/acknowledge", headers=auth(world.nurse, "nurse")).status_code == 200
    with http.websocket_connect(f"/v1/ws?since={msg['seq']}&access_token={token(world.nurse, 'nurse')}") as ws:
        got = [ws.receive_json() for _ in range(2)]
    assert [(m["event"], m["payload"]["status"]) for m in got] == [("health_alert", "escalated"),
                                                                  ("health_alert", "acknowledged")]
