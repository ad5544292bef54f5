"""Care scopes on real Postgres (migration 0051): the doctor's care window is a setting, a withdrawn registration
ends the clinic's access, doctors write clinical rows only, break-glass opens one patient read-only, audited and
flagged, and rows carry their tenant."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from protocol.errors import ForbiddenError
from sync_server.testing import auth
from tests.server import tenancy_seed
from tests.server.test_rls_sql import SERVICE, add_metric, as_user, visible_owners

URL = "/api/v1/health/metrics"


def _appointment(db, doctor: uuid.UUID, patient: uuid.UUID, days_ago: int) -> None:
    with db.session(*SERVICE) as conn:
        conn.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, hlc) VALUES (%s, %s, %s, %s, "
                     "'seed')", (uuid.uuid4(), patient, doctor, dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)))


def test_a_doctor_loses_an_appointment_patient_after_the_configurable_care_window(db):
    doctor_user, recent, long_ago = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    doctor = uuid.uuid4()
    with db.session(*SERVICE) as conn:
        conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr', 'gp', 's')",
                     (doctor, doctor_user))
        add_metric(conn, recent)
        add_metric(conn, long_ago)
    _appointment(db, doctor, recent, 30)
    _appointment(db, doctor, long_ago, 200)
    with as_user(db, doctor_user, "doctor") as conn:
        assert visible_owners(conn) == {recent}  # 200 days > the default 90
    try:
        with db.admin() as conn:
            conn.execute("UPDATE app.settings SET value = '365' WHERE key = 'care_window_days'")
        with as_user(db, doctor_user, "doctor") as conn:
            assert visible_owners(conn) == {recent, long_ago}
    finally:
        with db.admin() as conn:
            conn.execute("UPDATE app.settings SET value = '90' WHERE key = 'care_window_days'")


def test_withdrawing_a_registration_ends_the_clinics_access(db):
    clinic, patient = tenancy_seed.clinic(db), uuid.uuid4()
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    with db.session(*SERVICE) as conn:
        add_metric(conn, patient)
    tenancy_seed.register(db, clinic, patient)
    with as_user(db, nurse, "nurse") as conn:
        assert visible_owners(conn) == {patient}
    tenancy_seed.register(db, clinic, patient, status="withdrawn")
    with as_user(db, nurse, "nurse") as conn:
        assert visible_owners(conn) == set()
    with db.admin() as conn:
        assert conn.execute("SELECT withdrawn_at FROM registrations WHERE user_id = %s", (patient,)).fetchone()[
            "withdrawn_at"] is not None


def test_doctors_write_clinical_rows_only_and_nurses_the_profile_too(db):
    clinic, patient = tenancy_seed.clinic(db), uuid.uuid4()
    doctor, nurse = tenancy_seed.staff(db, clinic, "doctor"), tenancy_seed.staff(db, clinic, "nurse")
    tenancy_seed.register(db, clinic, patient)
    with db.session(*SERVICE) as conn:
        conn.execute("INSERT INTO users (id, full_name, hlc) VALUES (%s, 'Pat', 's')", (patient,))
    with as_user(db, doctor, "doctor") as conn:
        add_metric(conn, patient)  # a clinical record: allowed
        assert conn.execute("UPDATE users SET full_name = 'X' WHERE id = %s", (patient,)).rowcount == 0
    with pytest.raises(ForbiddenError):  # therapy sessions are not a doctor's to write
        with as_user(db, doctor, "doctor") as conn:
            conn.execute("INSERT INTO therapy_sessions (id, user_id, exercise, reps, score, duration_s, started_at, "
                         "hlc) VALUES (%s, %s, 'squat', 1, 50, 10, now(), 'h')", (uuid.uuid4(), patient))
    with as_user(db, nurse, "nurse") as conn:
        assert conn.execute("UPDATE users SET full_name = 'Pat Ient' WHERE id = %s", (patient,)).rowcount == 1


def test_break_glass_opens_one_patient_read_only_audited_and_flagged(client, db):
    clinic, outside = tenancy_seed.clinic(db), uuid.uuid4()
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    with db.session(*SERVICE) as conn:
        add_metric(conn, outside)
    hdr = auth(nurse, "nurse")
    assert client.get(URL, headers=hdr, params={"user_id": str(outside)}).json()["data"]["total"] == 0
    short = client.post("/api/v1/break-glass", json={"patient_id": str(outside), "reason": "why"}, headers=hdr)
    assert short.status_code == 422
    nobody = client.post("/api/v1/break-glass", json={"patient_id": str(outside), "reason": "unconscious at door"},
                         headers=auth(uuid.uuid4(), "nurse"))  # not staff anywhere
    assert nobody.status_code == 403
    r = client.post("/api/v1/break-glass", json={"patient_id": str(outside), "reason": "unconscious at the door"},
                    headers=hdr)
    assert r.status_code == 201, r.text
    assert client.get(URL, headers=hdr, params={"user_id": str(outside)}).json()["data"]["total"] == 1
    write = client.post(URL, json={"metric_type": "weight", "value": 70, "user_id": str(outside)}, headers=hdr)
    assert write.status_code == 403  # read-only
    with db.admin() as conn:
        rows = conn.execute("SELECT action, break_glass, detail FROM audit_log WHERE actor = %s AND subject_id = %s "
                            "ORDER BY at", (nurse, outside)).fetchall()
        assert [(a["action"], a["break_glass"]) for a in rows] == [("break_glass_open", True), ("read", True)]
        assert rows[0]["detail"] == {"reason": "unconscious at the door"}
        # Once the grant has expired the patient is closed again.
        conn.execute("UPDATE break_glass SET opened_at = now() - interval '2 hours', expires_at = now() - interval "
                     "'1 hour' WHERE staff_id = %s", (nurse,))
    assert client.get(URL, headers=hdr, params={"user_id": str(outside)}).json()["data"]["total"] == 0


def test_rows_carry_the_first_active_registrations_clinic_or_the_nil_tenant(client, db):
    first, second = tenancy_seed.clinic(db), tenancy_seed.clinic(db)
    registered, unregistered = uuid.uuid4(), uuid.uuid4()
    tenancy_seed.register(db, first, registered)
    tenancy_seed.register(db, second, registered)
    ids = {}
    for p in (registered, unregistered):
        r = client.post(URL, json={"metric_type": "weight", "value": 70}, headers=auth(p))
        ids[p] = r.json()["data"]["id"]
    with db.admin() as conn:
        tenants = {p: conn.execute("SELECT clinic_id FROM health_metrics WHERE id = %s", (i,)).fetchone()["clinic_id"]
                   for p, i in ids.items()}
    assert tenants == {registered: first, unregistered: uuid.UUID(int=0)}


def test_a_clinics_admin_manages_its_staff_and_registrations_and_no_other_clinics(db):
    clinic, other = tenancy_seed.clinic(db), tenancy_seed.clinic(db)
    admin, nurse = tenancy_seed.staff(db, clinic, "admin"), tenancy_seed.staff(db, clinic, "nurse")
    add = "INSERT INTO clinic_staff (clinic_id, user_id, role) VALUES (%s, %s, 'nurse')"
    with as_user(db, admin, "admin") as conn:
        conn.execute(add, (clinic, uuid.uuid4()))
        assert {r["role"] for r in conn.execute("SELECT role FROM clinic_staff WHERE clinic_id = %s", (clinic,))} \
            == {"admin", "nurse"}
    for who, where in ((admin, other), (nurse, clinic)):  # another clinic; a nurse is no admin
        with pytest.raises(ForbiddenError):
            with as_user(db, who, "admin") as conn:
                conn.execute(add, (where, uuid.uuid4()))
    with as_user(db, nurse, "nurse") as conn:  # the desk records a registration at its own clinic only
        conn.execute("INSERT INTO registrations (id, clinic_id, user_id, hlc) VALUES (%s, %s, %s, 'h')",
                     (uuid.uuid4(), clinic, uuid.uuid4()))
    with pytest.raises(ForbiddenError):
        with as_user(db, nurse, "nurse") as conn:
            conn.execute("INSERT INTO registrations (id, clinic_id, user_id, hlc) VALUES (%s, %s, %s, 'h')",
                         (uuid.uuid4(), other, uuid.uuid4()))
