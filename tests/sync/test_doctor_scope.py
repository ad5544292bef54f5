"""A doctor's scope on real Postgres: only their own appointments, rows that leave the scope leave the device,
and the checksums of a doctor's device agree with the server's (no repair every round)."""
from __future__ import annotations

import datetime as dt
import uuid

from tests.sync.doctor_devices import doctor_device as _doctor_device
from tests.sync.doctor_devices import seed_doctor as _seed_doctor


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _patient_with_data(devices, db, doctors: dict[uuid.UUID, str]):
    """A patient with a profile, a metric and one appointment (with its reason) per doctor, all synced."""
    patient = uuid.uuid4()
    p = devices.new(patient)
    p.store.users.add({"id": patient, "full_name": "Pat Ient"})
    p.store.health_metrics.add({"user_id": patient, "metric_type": "heart_rate", "value": 71, "unit": "bpm",
                                "recorded_at": _now()})
    appts = {d: p.store.appointments.add({"patient_id": patient, "doctor_id": d, "scheduled_at": _now(),
                                          "reason": reason}) for d, reason in doctors.items()}
    res = p.run()
    assert res.rejected == 0
    return patient, p, appts


def test_doctor_sees_only_their_own_appointments_not_a_colleagues(devices, db):
    """Failed before 0015: the doctor pulled the patient's psychiatry appointment with another doctor."""
    cardio_user, psych_user = uuid.uuid4(), uuid.uuid4()
    cardio, psych = _seed_doctor(db, cardio_user), _seed_doctor(db, psych_user, "psychiatry")
    patient, _, appts = _patient_with_data(devices, db, {cardio: "chest pain", psych: "psychiatry follow-up"})
    doc = _doctor_device(devices, cardio_user)
    doc.run()
    seen = {a.id for a in doc.store.appointments.list()}
    assert seen == {appts[cardio].id}
    assert doc.store.users.get(patient).full_name == "Pat Ient"  # the patient's own data: still in scope
    with db.session("authenticated", {"sub": str(cardio_user), "role": "authenticated",
                                      "app_metadata": {"role": "doctor"}}) as conn:
        reasons = {r["reason"] for r in conn.execute("SELECT reason FROM appointments")}
    assert reasons == {"chest pain"}


def test_rows_leaving_a_doctors_scope_are_purged_from_the_device(devices, db):
    """Failed before: after the only appointment was tombstoned, the patient's profile and metrics stayed on the
    doctor's device, and every round re-pulled users and health_metrics (checksums never agreed)."""
    doc_user = uuid.uuid4()
    doctor = _seed_doctor(db, doc_user)
    patient, p, appts = _patient_with_data(devices, db, {doctor: "knee"})
    doc = _doctor_device(devices, doc_user)
    doc.run()
    assert doc.store.users.count() == 1 and doc.store.health_metrics.count() == 1
    p.store.appointments.delete(appts[doctor].id)
    p.run()
    first = doc.run()
    assert doc.store.health_metrics.count() == 0
    assert doc.store.users.count() == 0
    assert set(first.repaired) >= {"users", "health_metrics"}
    again = doc.run()
    assert again.repaired == [] and again.pulled == 0  # checksums agree now: no re-pull every round


def test_a_row_with_a_pending_local_change_is_never_purged(devices, db):
    """Purging skips rows the device has not pushed yet (its own writes wait for their receipt)."""
    from edge import pull

    user = uuid.uuid4()
    d = devices.new(user)
    mine = d.store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": 60, "unit": "bpm",
                                       "recorded_at": _now()})
    assert pull.purge_out_of_scope(d.store, ["health_metrics"], set()) == 0
    assert d.store.health_metrics.get(mine.id).value == 60
    d.run()
    assert pull.purge_out_of_scope(d.store, ["health_metrics"], {("health_metrics", str(mine.id))}) == 0
    assert pull.purge_out_of_scope(d.store, ["health_metrics"], set()) == 1
    assert d.store.health_metrics.count() == 0


def test_a_patient_entering_the_scope_later_is_pulled_whole_and_checksums_then_agree(devices, db):
    """A doctor's checksums agree after a plain round; rows older than the doctor's cursor that become visible with
    a new appointment are found once by the checksum, and then agree again."""
    doc_user = uuid.uuid4()
    doctor = _seed_doctor(db, doc_user)
    _patient_with_data(devices, db, {doctor: "first"})
    doc = _doctor_device(devices, doc_user)
    doc.run()
    assert doc.run().repaired == []
    late = uuid.uuid4()
    p = devices.new(late)
    old = p.store.health_metrics.add({"user_id": late, "metric_type": "heart_rate", "value": 88, "unit": "bpm",
                                      "recorded_at": _now()})
    p.run()
    doc.run()  # the doctor's cursor is now past the late patient's metric, which is not visible yet
    p.store.appointments.add({"patient_id": late, "doctor_id": doctor, "scheduled_at": _now()})
    p.run()
    doc.run()
    assert doc.store.health_metrics.get(old.id).value == 88
    assert doc.run().repaired == []


def test_a_users_own_rows_are_never_purged_even_when_the_server_lost_them(devices, db):
    """Safety net: the device may hold the last copy of its user's own rows; only others' rows leave a scope."""
    user = uuid.uuid4()
    d = devices.new(user, verify_every_s=0)  # every round verifies: the server's loss shows only in checksums
    mine = d.store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": 61, "unit": "bpm",
                                       "recorded_at": _now()})
    d.run()
    with db.session("service_role", {"role": "service_role"}) as conn:  # a server restored from an old backup
        conn.execute("DELETE FROM health_metrics WHERE id = %s", (mine.id,))
    assert "health_metrics" in d.run().repaired
    assert d.store.health_metrics.get(mine.id).value == 61
