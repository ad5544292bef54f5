"""`healthsync server clinic create`, `staff add` and `doctor add` on real Postgres: what they write, and clean
errors for bad input."""
from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from healthsync_cli import app

runner = CliRunner()


def run(pg_url, *args):
    return runner.invoke(app, ["server", *args], env={"DATABASE_URL": pg_url})


def ok_json(pg_url, *args) -> dict:
    result = run(pg_url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_clinic_staff_and_doctor_are_written_as_asked(pg_url, db):
    clinic = ok_json(pg_url, "clinic", "create", "North Clinic")
    assert uuid.UUID(clinic["id"]) and clinic["name"] == "North Clinic"
    nurse, doc_user = uuid.uuid4(), uuid.uuid4()
    staff = ok_json(pg_url, "staff", "add", "--clinic", clinic["id"], "--user", str(nurse), "--role", "nurse")
    assert staff["id"] and staff["role"] == "nurse"
    doctor = ok_json(pg_url, "doctor", "add", "--user", str(doc_user), "--clinic", clinic["id"], "--specialty",
                     "cardiology", "--languages", "en,FR", "--price-min", "40", "--price-max", "90",
                     "--working-hours", '{"mon": ["09:00-17:00"]}')
    with db.admin() as conn:
        assert conn.execute("SELECT name FROM clinics WHERE id = %s", (clinic["id"],)).fetchone()["name"] == \
            "North Clinic"
        roles = {r["user_id"]: r["role"] for r in conn.execute(
            "SELECT user_id, role FROM clinic_staff WHERE clinic_id = %s", (clinic["id"],))}
        d = conn.execute("SELECT user_id, clinic_id, specialty, languages, price_min, price_max, working_hours "
                         "FROM doctors WHERE id = %s", (doctor["id"],)).fetchone()
    assert roles == {nurse: "nurse", doc_user: "doctor"}  # doctor add makes the user the clinic's doctor too
    assert d == {"user_id": doc_user, "clinic_id": uuid.UUID(clinic["id"]), "specialty": "cardiology",
                 "languages": ["en", "fr"], "price_min": 40.0, "price_max": 90.0,
                 "working_hours": {"mon": ["09:00-17:00"]}}
    # A second staff add changes the role rather than adding a row.
    ok_json(pg_url, "staff", "add", "--clinic", clinic["id"], "--user", str(nurse), "--role", "admin")
    with db.admin() as conn:
        assert conn.execute("SELECT role FROM clinic_staff WHERE clinic_id = %s AND user_id = %s",
                            (clinic["id"], nurse)).fetchone()["role"] == "admin"


def test_staff_add_sets_the_sign_in_users_app_metadata_when_auth_users_exists(pg_base_url):
    """With the embedded auth's table present, the membership and the token's app_metadata agree."""
    from sync_server import testing

    url = testing.migrated_database(pg_base_url, "hs_tenancy_auth")
    try:
        import psycopg

        user = uuid.uuid4()
        with psycopg.connect(url, autocommit=True) as conn:  # a sign-in user of the embedded auth (migration 0040)
            conn.execute("INSERT INTO auth.users (id, email, encrypted_password, raw_app_meta_data) VALUES "
                         "(%s, 'n@x.org', 'not-a-real-hash', '{\"provider\": \"email\"}')", (user,))
        clinic = ok_json(url, "clinic", "create", "South")
        out = ok_json(url, "staff", "add", "--clinic", clinic["id"], "--user", str(user), "--role", "nurse")
        assert out["auth_metadata_updated"] is True
        with psycopg.connect(url) as conn:
            meta = conn.execute("SELECT raw_app_meta_data FROM auth.users WHERE id = %s", (user,)).fetchone()[0]
        assert meta == {"provider": "email", "role": "nurse", "clinic_id": clinic["id"]}
        doc = uuid.uuid4()  # `doctor add` too: without the doctor claim the care policies gave them nobody
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO auth.users (id, email, encrypted_password) VALUES (%s, 'd@x.org', 'x')",
                         (doc,))
        ok_json(url, "doctor", "add", "--user", str(doc), "--clinic", clinic["id"], "--specialty", "cardiology")
        with psycopg.connect(url) as conn:
            meta = conn.execute("SELECT raw_app_meta_data FROM auth.users WHERE id = %s", (doc,)).fetchone()[0]
        assert meta["role"] == "doctor" and meta["clinic_id"] == clinic["id"]
    finally:
        testing.drop_database(pg_base_url, url)


@pytest.mark.parametrize(("args", "message"), [
    (["staff", "add", "--clinic", "nope", "--user", str(uuid.uuid4()), "--role", "nurse"], "--clinic must be a UUID"),
    (["staff", "add", "--clinic", str(uuid.uuid4()), "--user", str(uuid.uuid4()), "--role", "nurse"], "no clinic"),
    (["staff", "add", "--clinic", str(uuid.uuid4()), "--user", str(uuid.uuid4()), "--role", "janitor"], "janitor"),
    (["clinic", "create", "   "], "1 to 200 characters"),
    (["doctor", "add", "--user", str(uuid.uuid4()), "--clinic", str(uuid.uuid4()), "--specialty", "x",
      "--price-min", "90", "--price-max", "40"], "price_min must not exceed price_max"),
    (["doctor", "add", "--user", str(uuid.uuid4()), "--clinic", str(uuid.uuid4()), "--specialty", "x",
      "--working-hours", "[1"], "--working-hours must be a JSON object"),
])
def test_bad_input_is_one_clean_line(pg_url, args, message):
    result = run(pg_url, *args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
