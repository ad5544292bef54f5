"""The appointment state machine per role (protocol.appointments), enforced by SQL on real Postgres and answered
with an ILLEGAL_TRANSITION receipt that says who may make the move."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge import outbox
from protocol import appointments
from protocol.errors import HealthSyncError
from protocol.schema import AppointmentStatus
from sync_server import auth
from sync_server.cli import RoleChoice
from tests.sync.doctor_devices import SERVICE, doctor_device, seed_doctor

STATUSES = list(AppointmentStatus.__args__)


def _claims(user: uuid.UUID, role: str) -> dict:
    return {"sub": str(user), "role": "authenticated", "aud": "authenticated", "app_metadata": {"role": role}}


def _insert(conn, patient: uuid.UUID, doctor: uuid.UUID, status: str) -> uuid.UUID:
    row = uuid.uuid4()
    conn.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, status, hlc) "
                 "VALUES (%s, %s, %s, now(), %s, 'h')", (row, patient, doctor, status))
    return row


def _bid(conn, appointment: uuid.UUID) -> uuid.UUID:
    """An open bid on the appointment by a directory doctor (the booking trigger takes doctor and slot from it)."""
    doctor = conn.execute("INSERT INTO doctors (id, full_name, specialty, hlc) VALUES (gen_random_uuid(), 'Dr Bid', "
                          "'gp', 'h') RETURNING id").fetchone()["id"]
    start = _soon()
    return conn.execute("INSERT INTO appointment_bids (appointment_id, doctor_id, price, slot_start, slot_end) VALUES "
                        "(%s, %s, 1, %s, %s) RETURNING id",
                        (appointment, doctor, start, start + dt.timedelta(minutes=30))).fetchone()["id"]


def _soon():
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=2)


def test_the_database_holds_exactly_the_python_table(db):
    """The trigger's table is protocol.appointments.TRANSITIONS, row for row (the migration runner copies it)."""
    with db.session(*SERVICE) as conn:
        rows = conn.execute("SELECT from_status, to_status, role FROM app.appointment_transitions").fetchall()
    assert sorted((r["from_status"] or "", r["to_status"], r["role"]) for r in rows) == \
        sorted((o or "", n, r) for o, n, r in appointments.sql_rows())
    assert set(appointments.ROLES) == {"patient", "nurse", "doctor", "staff", "admin"}
    # Every role the table names can sign in, and the dev token command can mint it.
    assert set(auth.ROLES) == set(appointments.ROLES) == {r.value for r in RoleChoice}
    assert {s for pair in appointments.TRANSITIONS for s in pair if s} <= set(STATUSES)


def test_the_role_table_says_what_the_issue_asks():
    """Hand-written expectations, independent of the table's encoding."""
    assert appointments.may("patient", None, "requested")
    assert not appointments.may("patient", None, "completed")
    assert not appointments.may("patient", None, "confirmed")
    assert not appointments.may("patient", "requested", "confirmed")
    assert appointments.may("patient", "requested", "cancelled")
    assert appointments.may("patient", "confirmed", "cancelled")
    for role in ("nurse", "doctor", "staff", "admin"):
        assert appointments.may(role, "requested", "confirmed")
        assert appointments.may(role, "confirmed", "completed")
        assert appointments.may(role, "confirmed", "no_show")
    assert not appointments.may("admin", "completed", "requested")  # terminal for everyone
    assert appointments.explain("patient", "requested", "confirmed") == \
        "a patient may not move an appointment from requested to confirmed; allowed for: admin, doctor, nurse, staff"


@pytest.mark.parametrize("role", appointments.ROLES)
def test_sql_trigger_allows_exactly_the_table_for_every_move(db, role):
    """Every (before, after) pair, as each role on a row RLS lets it write (its own): the trigger agrees with the
    table; a refusal is ILLEGAL_TRANSITION with explain()'s text."""
    user, doctor = uuid.uuid4(), uuid.uuid4()
    for before in [None, *STATUSES]:
        for after in STATUSES:
            row = bid = None
            if before is not None:
                with db.session(*SERVICE) as conn:  # trusted: any start state
                    row = _insert(conn, user, doctor, before)
                    if (before, after) == ("requested", "booked"):  # a booking names its bid (issue 11, 0080)
                        bid = _bid(conn, row)
            try:
                with db.session("authenticated", _claims(user, role)) as conn:
                    if row is None:
                        _insert(conn, user, doctor, after)
                    else:
                        n = conn.execute("UPDATE appointments SET status = %s, bid_id = coalesce(%s, bid_id) "
                                         "WHERE id = %s", (after, bid, row)).rowcount
                        assert n == 1
                outcome = None
            except HealthSyncError as exc:
                outcome = (exc.code, exc.message)
            if appointments.may(role, before, after):
                assert outcome is None, (role, before, after, outcome)
            else:
                assert outcome == ("ILLEGAL_TRANSITION", appointments.explain(role, before, after)), \
                    (role, before, after)


def test_patient_pushing_a_completed_appointment_gets_illegal_transition(devices, db):
    """Failed before 0016: the server stored a patient's appointment inserted as completed."""
    user = uuid.uuid4()
    d = devices.new(user)
    appt = d.store.appointments.add({"patient_id": user, "doctor_id": uuid.uuid4(), "scheduled_at": _soon(),
                                     "status": "completed"})
    res = d.run()
    assert (res.accepted, res.rejected) == (0, 1)
    [q] = outbox.quarantined(d.store)
    assert q.code == "ILLEGAL_TRANSITION"
    assert q.reason == "a patient may not create an appointment as completed; allowed for: no one"
    with db.session(*SERVICE) as conn:
        assert conn.execute("SELECT count(*) AS n FROM appointments WHERE id = %s", (appt.id,)).fetchone()["n"] == 0


def test_patient_cannot_confirm_their_own_request_but_the_doctor_can(devices, db):
    """Failed before 0016: a patient's device confirmed its own request."""
    user, doc_user = uuid.uuid4(), uuid.uuid4()
    doctor = seed_doctor(db, doc_user)
    p = devices.new(user)
    appt = p.store.appointments.add({"patient_id": user, "doctor_id": doctor, "scheduled_at": _soon()})
    assert p.run().accepted == 1
    p.store.appointments.update(appt.id, status="confirmed")
    res = p.run()
    assert res.rejected == 1
    [q] = outbox.quarantined(p.store)
    assert q.code == "ILLEGAL_TRANSITION" and "allowed for: admin, doctor, nurse, staff" in q.reason
    assert p.store.appointments.get(appt.id).status == "requested"  # repaired from the receipt's server row
    doc = doctor_device(devices, doc_user)
    doc.run()
    doc.store.appointments.update(appt.id, status="confirmed")
    assert doc.run().accepted == 1
    doc.store.appointments.update(appt.id, status="completed")
    assert doc.run().accepted == 1
    p.run()
    assert p.store.appointments.get(appt.id).status == "completed"


def test_patient_may_cancel_their_own_confirmed_appointment(devices, db):
    user, doc_user = uuid.uuid4(), uuid.uuid4()
    doctor = seed_doctor(db, doc_user)
    with db.session(*SERVICE) as conn:
        row = _insert(conn, user, doctor, "confirmed")
    p = devices.new(user)
    p.run()
    p.store.appointments.update(row, status="cancelled")
    assert p.run().accepted == 1
    with db.session(*SERVICE) as conn:
        assert conn.execute("SELECT status FROM appointments WHERE id = %s", (row,)).fetchone()["status"] == \
            "cancelled"
