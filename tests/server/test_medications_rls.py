"""Server migration 0030: the medications table obeys the same RLS, grants and correction rule as observations."""
from __future__ import annotations

import uuid

import pytest

from protocol.errors import ForbiddenError, ValidationError
from tests.server import tenancy_seed
from tests.server.conftest import seed_doctor
from tests.server.test_rls_sql import SERVICE, as_user, visible_owners


def add_med(conn, owner: uuid.UUID, supersedes: uuid.UUID | None = None) -> uuid.UUID:
    row_id = uuid.uuid4()
    conn.execute("INSERT INTO medications (id, user_id, supersedes, name, strength, unit, frequency, route, "
                 "recorded_at, hlc) VALUES (%s, %s, %s, 'metformin', 500, 'mg', 'BID', 'oral', now(), 'h')",
                 (row_id, owner, supersedes))
    return row_id


def test_patients_doctors_and_admins_see_what_they_should(db):
    a, b, doctor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with db.session(*SERVICE) as conn:
        add_med(conn, b)
    with as_user(db, a) as conn:
        add_med(conn, a)
        assert visible_owners(conn, "medications") == {a}
    with pytest.raises(ForbiddenError):
        with as_user(db, a) as conn:
            add_med(conn, b)
    seed_doctor(db, doctor, [b])
    with as_user(db, doctor, "doctor") as conn:
        assert visible_owners(conn, "medications") == {b}
    with as_user(db, uuid.uuid4(), "admin") as conn:  # an admin token alone grants nothing (memberships do)
        assert visible_owners(conn, "medications") == set()
    clinic = tenancy_seed.clinic(db)
    admin = tenancy_seed.staff(db, clinic, "admin")
    for patient in (a, b):
        tenancy_seed.register(db, clinic, patient)
    with as_user(db, admin, "admin") as conn:  # the admin of the clinic both are registered at (migration 0071)
        assert visible_owners(conn, "medications") == {a, b}
    with pytest.raises(ForbiddenError):
        with db.session("anon", {"role": "anon"}) as conn:
            conn.execute("SELECT * FROM medications")


def test_medications_are_append_only_and_corrections_stay_with_their_patient(db):
    a, b = uuid.uuid4(), uuid.uuid4()
    with as_user(db, a) as conn:
        mine = add_med(conn, a)
    with pytest.raises(ForbiddenError):  # only the tombstone and sync metadata may change
        with as_user(db, a) as conn:
            conn.execute("UPDATE medications SET strength = 1000 WHERE id = %s", (mine,))
    with as_user(db, a) as conn:
        conn.execute("UPDATE medications SET deleted = true WHERE id = %s", (mine,))
    with pytest.raises(ValidationError):  # the 0011 trigger covers this table too
        with as_user(db, b) as conn:
            add_med(conn, b, supersedes=mine)
