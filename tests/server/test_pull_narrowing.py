"""A pull narrows the care-policy tables to the owners the caller may read (sync_server.reconcile.readable_owners)
before RLS filters them; the narrowing must never hide a row RLS would show. Checked two ways: every kind of
reader pulls the same page with and without it, and those tables' read policies still have the shape the
narrowing relies on (a later migration that widens one must widen the narrowing too)."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from sync_server import reconcile
from tests.server import tenancy_seed
from tests.server.test_rls_sql import SERVICE, add_metric, as_user


def _doctor_with_patient(db, patient: uuid.UUID) -> uuid.UUID:
    """A marketplace doctor (no clinic) with an appointment last week: the patient is in their care window."""
    user, doctor = uuid.uuid4(), uuid.uuid4()
    with db.session(*SERVICE) as conn:
        conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr', 'gp', 's')",
                     (doctor, user))
        conn.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, hlc) VALUES (%s, %s, %s, %s, "
                     "'seed')", (uuid.uuid4(), patient, doctor, dt.datetime.now(dt.UTC) - dt.timedelta(days=7)))
    return user


@pytest.fixture
def world(db):
    """A clinic with a nurse, two registered patients (one withdrawn), a patient of a doctor's care window, one
    opened by break-glass, one nobody may read, each with a metric and a profile."""
    clinic = tenancy_seed.clinic(db)
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    registered, withdrawn, cared, glassed, outsider = (uuid.uuid4() for _ in range(5))
    tenancy_seed.register(db, clinic, registered)
    tenancy_seed.register(db, clinic, withdrawn, status="withdrawn")
    with db.session(*SERVICE) as conn:
        for p in (registered, withdrawn, cared, glassed, outsider):
            add_metric(conn, p)
            conn.execute("INSERT INTO users (id, full_name, hlc) VALUES (%s, 'P', 's')", (p,))
    doctor = _doctor_with_patient(db, cared)
    with db.admin() as conn:
        conn.execute("INSERT INTO break_glass (clinic_id, staff_id, patient_id, reason, expires_at) VALUES "
                     "(%s, %s, %s, 'unconscious at the door', now() + interval '1 hour')", (clinic, nurse, glassed))
    return {"readers": [(registered, "patient"), (nurse, "nurse"), (doctor, "doctor")],
            "visible": {nurse: {registered, glassed}, doctor: {cared}, registered: {registered}}}


def _page(db, user, role, *, narrow: bool) -> dict:
    with as_user(db, user, role) as conn:
        return reconcile.pull(conn, 0, 10_000, narrow=narrow)


def test_every_reader_pulls_the_same_rows_with_and_without_the_narrowing(db, world):
    for user, role in world["readers"]:
        narrowed, plain = _page(db, user, role, narrow=True), _page(db, user, role, narrow=False)
        assert narrowed["changes"] == plain["changes"], role
        assert narrowed["checksums"] == plain["checksums"], role
        owners = {uuid.UUID(c["doc"]["user_id"]) for c in narrowed["changes"] if c["table"] == "health_metrics"}
        assert owners == world["visible"][user], role  # the fixture's scopes are real: the comparison means something


def test_a_patient_is_narrowed_to_themselves_and_a_large_scope_is_not_narrowed(db, monkeypatch):
    me = uuid.uuid4()
    with as_user(db, me) as conn:
        assert reconcile.readable_owners(conn) == [str(me)]
    clinic = tenancy_seed.clinic(db)
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    for _ in range(3):
        tenancy_seed.register(db, clinic, uuid.uuid4())
    monkeypatch.setattr(reconcile, "NARROW_MAX_OWNERS", 2)
    with as_user(db, nurse, "nurse") as conn:
        assert reconcile.readable_owners(conn) is None  # four owners: RLS's own plan is used
    with db.session(*SERVICE) as conn:
        assert reconcile.readable_owners(conn) is None  # the service role reads past RLS: never narrowed to nobody


# 0051's care policy, as pg_policies prints it, with the table's owner column for OWNER.
CARE_POLICY = ("((OWNER = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT 1 FROM registrations r WHERE "
               "((r.user_id = TABLE.OWNER) AND (r.status = 'active'::text) AND (NOT r.deleted) AND (r.clinic_id IN "
               "( SELECT app.my_clinics('{nurse,doctor,admin}'::text[]) AS my_clinics))))) OR (OWNER IN ( SELECT "
               "app.appointment_patients() AS appointment_patients)) OR (OWNER IN ( SELECT app.glass_patients() AS "
               "glass_patients)))")


def test_the_narrowed_tables_are_read_under_the_care_policy_only(db):
    with db.admin() as conn:
        for table in sorted(reconcile.CARE_POLICY_TABLES):
            rows = conn.execute("SELECT policyname, permissive, qual FROM pg_policies WHERE schemaname = 'public' "
                                "AND tablename = %s AND cmd IN ('SELECT', 'ALL')", (table,)).fetchall()
            owner = reconcile.TABLES[table].owner
            assert [(r["permissive"], re.sub(r"\s+", " ", r["qual"])) for r in rows] == [
                ("PERMISSIVE", CARE_POLICY.replace("TABLE", table).replace("OWNER", owner))], table
