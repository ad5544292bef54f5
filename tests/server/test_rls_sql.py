"""Row-level security checked with direct SQL, as Supabase would run it: role `authenticated` plus JWT claims."""
from __future__ import annotations

import uuid

import pytest

from protocol.errors import ForbiddenError, ValidationError
from protocol.schema import METRICS
from sync_server.db import Database
from tests.server import tenancy_seed
from tests.server.conftest import seed_doctor

SERVICE = ("service_role", {"role": "service_role"})


def claims(user: uuid.UUID, role: str = "patient") -> dict:
    return {"sub": str(user), "role": "authenticated", "aud": "authenticated", "app_metadata": {"role": role}}


def as_user(db: Database, user: uuid.UUID, role: str = "patient"):
    return db.session("authenticated", claims(user, role))


def add_metric(conn, owner: uuid.UUID, value: float = 70.0) -> uuid.UUID:
    row_id = uuid.uuid4()
    conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                 "VALUES (%s, %s, 'heart_rate', 'bpm', %s, now(), 'h')", (row_id, owner, value))
    return row_id


def visible_owners(conn, table: str = "health_metrics", column: str = "user_id") -> set[uuid.UUID]:
    return {r["o"] for r in conn.execute(f"SELECT {column} AS o FROM {table}")}


@pytest.fixture
def two_patients(db):
    a, b = uuid.uuid4(), uuid.uuid4()
    with db.session(*SERVICE) as conn:
        add_metric(conn, a)
        add_metric(conn, b)
    return a, b


def test_auth_functions_read_the_claims_like_supabase(db):
    user = uuid.uuid4()
    with as_user(db, user, "doctor") as conn:
        row = conn.execute("SELECT auth.uid() AS uid, auth.role() AS role, auth.jwt() -> 'app_metadata' ->> 'role' "
                           "AS app_role, current_user AS cu").fetchone()
    assert row == {"uid": user, "role": "authenticated", "app_role": "doctor", "cu": "authenticated"}


def test_patient_sees_only_own_rows(db, two_patients):
    a, b = two_patients
    with as_user(db, a) as conn:
        assert visible_owners(conn) == {a}
        assert conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id = %s", (b,)).fetchone()["n"] == 0


def test_patient_cannot_insert_for_another(db, two_patients):
    a, b = two_patients
    with pytest.raises(ForbiddenError):
        with as_user(db, a) as conn:
            add_metric(conn, b)
    with db.session(*SERVICE) as conn:
        assert visible_owners(conn) >= {a, b}
        assert conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id = %s", (b,)).fetchone()["n"] == 1


def test_patient_cannot_update_or_delete_another_patients_rows(db, two_patients):
    a, b = two_patients
    with as_user(db, a) as conn:
        cur = conn.execute("UPDATE health_metrics SET deleted = true WHERE user_id = %s", (b,))
        assert cur.rowcount == 0
    with pytest.raises(ForbiddenError):  # no DELETE privilege at all: tombstones, never deletes
        with as_user(db, a) as conn:
            conn.execute("DELETE FROM health_metrics WHERE user_id = %s", (a,))


def test_observations_are_append_only_for_patients(db, two_patients):
    a, _ = two_patients
    with pytest.raises(ForbiddenError):  # only the tombstone and sync metadata columns are updatable
        with as_user(db, a) as conn:
            conn.execute("UPDATE health_metrics SET value = 99 WHERE user_id = %s", (a,))
    with as_user(db, a) as conn:
        before = conn.execute("SELECT change_seq FROM health_metrics WHERE user_id = %s", (a,)).fetchone()
        conn.execute("UPDATE health_metrics SET deleted = true WHERE user_id = %s", (a,))
        after = conn.execute("SELECT change_seq, deleted FROM health_metrics WHERE user_id = %s", (a,)).fetchone()
    assert after["deleted"] is True
    assert after["change_seq"] > before["change_seq"]  # the trigger bumps the pull cursor on UPDATE


def test_doctor_sees_only_patients_with_an_appointment(db):
    doctor_user, mine, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with db.session(*SERVICE) as conn:
        add_metric(conn, mine)
        add_metric(conn, other)
    seed_doctor(db, doctor_user, [mine])
    with as_user(db, doctor_user, "doctor") as conn:
        owners = visible_owners(conn)
        assert mine in owners and other not in owners
        assert visible_owners(conn, "appointments", "patient_id") == {mine}
    # The same user without the doctor claim is just a patient with no rows of their own.
    with as_user(db, doctor_user, "patient") as conn:
        assert visible_owners(conn) == set()


def test_a_clinic_admin_sees_the_clinics_registered_patients_and_a_bare_admin_claim_nothing(db, two_patients):
    """Issue 10 replaced 0008's "an admin claim sees everyone": access comes from memberships, never from the JWT's
    app_metadata, so a clinic admin sees the patients registered at their clinic only."""
    a, b = two_patients
    c = tenancy_seed.clinic(db)
    admin = tenancy_seed.staff(db, c, "admin")
    tenancy_seed.register(db, c, a)
    with as_user(db, admin, "admin") as conn:
        assert visible_owners(conn) == {a}
    with as_user(db, uuid.uuid4(), "admin") as conn:
        assert visible_owners(conn) == set()


def test_anon_has_no_access(db):
    with pytest.raises(ForbiddenError):
        with db.session("anon", {"role": "anon"}) as conn:
            conn.execute("SELECT * FROM health_metrics")


def test_doctor_directory_read_by_all_written_by_admin(db):
    patient = uuid.uuid4()
    seed_doctor(db, uuid.uuid4(), [])
    with as_user(db, patient) as conn:
        assert conn.execute("SELECT count(*) AS n FROM doctors").fetchone()["n"] >= 1
    with pytest.raises(ForbiddenError):
        with as_user(db, patient) as conn:
            conn.execute("INSERT INTO doctors (id, full_name, specialty, hlc) VALUES (%s, 'X', 'y', 'h')",
                         (uuid.uuid4(),))
    c, other = tenancy_seed.clinic(db), tenancy_seed.clinic(db)
    admin = tenancy_seed.staff(db, c, "admin")
    insert = "INSERT INTO doctors (id, full_name, specialty, clinic_id, hlc) VALUES (%s, 'X', 'y', %s, 'h')"
    with as_user(db, admin, "admin") as conn:  # an admin of the entry's clinic
        conn.execute(insert, (uuid.uuid4(), c))
    for who, clinic_id in ((admin, other), (uuid.uuid4(), c)):  # another clinic's entry; a bare admin claim
        with pytest.raises(ForbiddenError):
            with as_user(db, who, "admin") as conn:
                conn.execute(insert, (uuid.uuid4(), clinic_id))


def test_audit_log_is_append_only_and_admin_readable(db):
    a = uuid.uuid4()
    with as_user(db, a) as conn:
        conn.execute("INSERT INTO audit_log (actor, role, action, table_name) VALUES (%s, 'patient', 'read', 't')",
                     (a,))
        assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == 0
    with pytest.raises(ForbiddenError):  # nobody forges another actor's entry
        with as_user(db, a) as conn:
            conn.execute("INSERT INTO audit_log (actor, role, action, table_name) VALUES (%s, 'patient', 'read', "
                         "'t')", (uuid.uuid4(),))
    with pytest.raises(ForbiddenError):
        with as_user(db, a) as conn:
            conn.execute("UPDATE audit_log SET action = 'x'")
    c = tenancy_seed.clinic(db)
    tenancy_seed.register(db, c, a)
    with as_user(db, tenancy_seed.staff(db, c, "admin"), "admin") as conn:  # the admin of a's clinic
        conn.execute("INSERT INTO audit_log (actor, role, action, table_name, subject_id) VALUES (auth.uid(), "
                     "'admin', 'read', 't', %s)", (a,))
        assert conn.execute("SELECT count(*) AS n FROM audit_log WHERE subject_id = %s", (a,)).fetchone()["n"] == 1
    with as_user(db, uuid.uuid4(), "admin") as conn:  # an admin claim without a clinic reads nothing
        assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == 0


def test_role_and_claims_do_not_leak_to_the_next_transaction(pg_url):
    single = Database(pg_url, max_size=1)  # one connection, so the second session reuses it
    try:
        with single.session("authenticated", claims(uuid.uuid4())):
            pass
        with single.admin() as conn:
            row = conn.execute("SELECT current_user AS cu, current_setting('request.jwt.claims', true) AS c").fetchone()
        assert row["cu"] != "authenticated"
        assert row["c"] in (None, "")
    finally:
        single.close()


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_database_enforces_the_edge_bounds(db, metric):
    spec = METRICS[metric]
    owner = uuid.uuid4()
    sql = ("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
           "VALUES (%s, %s, %s, %s, %s, now(), 'h')")
    with db.session(*SERVICE) as conn:
        conn.execute(sql, (uuid.uuid4(), owner, metric, spec.unit, spec.high))
        conn.execute(sql, (uuid.uuid4(), owner, metric, spec.unit, spec.low))
    for bad in (spec.high + abs(spec.high) * 0.01 + 0.01, spec.low - abs(spec.low) * 0.01 - 0.01):
        with pytest.raises(ValidationError) as err:
            with db.session(*SERVICE) as conn:
                conn.execute(sql, (uuid.uuid4(), owner, metric, spec.unit, bad))
        assert err.value.field == "value"


def test_database_rejects_unknown_metric_type(db):
    with pytest.raises(ValidationError) as err:
        with db.session(*SERVICE) as conn:
            conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, value, recorded_at, hlc) "
                         "VALUES (%s, %s, 'unicorn_level', 1, now(), 'h')", (uuid.uuid4(), uuid.uuid4()))
    assert err.value.field == "metric_type"


# One minimal row per patient table, owned by `owner` (the owner column is filled in by `row_for`).
_MINIMAL = {
    "users": {},
    "health_metrics": {"metric_type": "heart_rate", "value": 60, "recorded_at": "2026-01-01T00:00:00Z"},
    "symptoms": {"description": "cough", "severity": 3, "recorded_at": "2026-01-01T00:00:00Z"},
    "therapy_sessions": {"exercise": "squat", "reps": 5, "score": 80, "duration_s": 60,
                         "started_at": "2026-01-01T00:00:00Z"},
    "predictions": {"disease": "diabetes", "model_name": "m", "model_version": "1", "inputs_hash": "0" * 64,
                    "created_at": "2026-01-01T00:00:00Z"},
    "health_events": {"event_type": "note", "occurred_at": "2026-01-01T00:00:00Z"},
    "family_graph": {},
    "appointments": {"doctor_id": str(uuid.uuid4()), "scheduled_at": "2026-01-01T00:00:00Z"},
}
_OWNER = {"users": "id", "appointments": "patient_id"}


def insert_row(conn, table: str, owner: uuid.UUID) -> None:
    owner_col = _OWNER.get(table, "user_id")
    row = {"hlc": "h", **_MINIMAL[table], owner_col: str(owner)}
    if owner_col != "id":
        row["id"] = str(uuid.uuid4())
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(row))})", list(row.values()))


@pytest.mark.parametrize("table", sorted(_MINIMAL))
def test_every_patient_table_isolates_patients(db, table):
    a, b = uuid.uuid4(), uuid.uuid4()
    with as_user(db, a) as conn:
        insert_row(conn, table, a)
    with pytest.raises(ForbiddenError):
        with as_user(db, a) as conn:
            insert_row(conn, table, b)
    with db.session(*SERVICE) as conn:
        insert_row(conn, table, b)
    owner_col = _OWNER.get(table, "user_id")
    with as_user(db, a) as conn:
        assert visible_owners(conn, table, owner_col) == {a}
    with as_user(db, b) as conn:
        assert visible_owners(conn, table, owner_col) == {b}


def test_rls_is_enabled_and_forced_on_every_table_and_anon_has_no_grants(db):
    with db.admin() as conn:
        flags = {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            ([*_MINIMAL, "doctors", "audit_log"],))}
        anon = conn.execute("SELECT count(*) AS n FROM information_schema.role_table_grants "
                            "WHERE grantee = 'anon' AND table_schema = 'public'").fetchone()["n"]
    assert set(flags) == {*_MINIMAL, "doctors", "audit_log"}
    assert all(f == (True, True) for f in flags.values()), flags
    assert anon == 0


def test_a_clinic_admin_manages_only_their_own_clinics_doctors(db):
    """0051: an admin of clinic A may not reprice, move or delete clinic B's doctors (0008 let any admin claim do
    it), only their own clinic's."""
    from sync_server import tenancy

    admin_a = uuid.uuid4()
    with db.admin() as conn:
        clinic_a = uuid.UUID(tenancy.create_clinic(conn, "Clinic A")["id"])
        clinic_b = uuid.UUID(tenancy.create_clinic(conn, "Clinic B")["id"])
        tenancy.add_staff(conn, clinic_a, admin_a, "admin")
        doc_a = tenancy.add_doctor(conn, uuid.uuid4(), clinic_a, "cardiology", name="Dr A")["id"]
        doc_b = tenancy.add_doctor(conn, uuid.uuid4(), clinic_b, "cardiology", name="Dr B")["id"]

    def price(doctor):
        with db.admin() as conn:
            return conn.execute("SELECT price_min FROM doctors WHERE id = %s", (doctor,)).fetchone()["price_min"]

    with as_user(db, admin_a, "admin") as conn:
        assert conn.execute("UPDATE doctors SET price_min = 1 WHERE id = %s", (doc_b,)).rowcount == 0
        assert conn.execute("DELETE FROM doctors WHERE id = %s", (doc_b,)).rowcount == 0
        assert conn.execute("UPDATE doctors SET price_min = 40 WHERE id = %s", (doc_a,)).rowcount == 1
    assert price(doc_b) != 1 and price(doc_a) == 40
    with pytest.raises(ForbiddenError):  # nor moved into a clinic the admin does not run
        with as_user(db, admin_a, "admin") as conn:
            conn.execute("UPDATE doctors SET clinic_id = %s WHERE id = %s", (clinic_b, doc_a))
    with pytest.raises(ForbiddenError):  # nor created there
        with as_user(db, admin_a, "admin") as conn:
            conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, clinic_id, hlc) VALUES "
                         "(gen_random_uuid(), gen_random_uuid(), 'Dr X', 'cardiology', %s, 'h')", (clinic_b,))
