"""Console fixtures: the real app (embedded Supabase Auth) on a migrated Postgres, a clinic with a doctor, a nurse
and an admin who sign in with passwords, registered patients with records, and a patient of another clinic."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

import pytest

from sync_server import testing
from sync_server.app import create_app
from sync_server.auth_service import AuthSettings
from tests.auth.conftest import PASSWORD, add_user
from tests.server import records_seed, tenancy_seed
from tests.sync import conftest as sync_fixtures

pg_url, db = sync_fixtures.pg_url, sync_fixtures.db


@dataclass
class World:
    clinic: uuid.UUID
    other_clinic: uuid.UUID
    users: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)  # role -> (id, email)
    mine: list[uuid.UUID] = field(default_factory=list)
    outsider: uuid.UUID | None = None


def _profile(db, patient: uuid.UUID, name: str, clinic: uuid.UUID) -> None:
    with db.admin() as conn:
        conn.execute("INSERT INTO users (id, full_name, date_of_birth, hlc, clinic_id) VALUES (%s, %s, '1970-05-04', "
                     "'seed', %s)", (patient, name, clinic))


@pytest.fixture(scope="session")
def world(db) -> World:
    clinic, other = tenancy_seed.clinic(db, "Riverside Clinic"), tenancy_seed.clinic(db, "Hillside Clinic")
    w = World(clinic, other)
    for role, name in (("doctor", "Dr Dana Doctor"), ("nurse", "Nadia Nurse"), ("admin", "Ada Admin")):
        uid, email = add_user(db, role=role, clinic=clinic, name=name)
        tenancy_seed.staff(db, clinic, role, uid)
        w.users[role] = (uid, email)
    uid, email = add_user(db, role="doctor", clinic=other, name="Dr Other")
    tenancy_seed.staff(db, other, "doctor", uid)
    w.users["other_doctor"] = (uid, email)
    for i, name in enumerate(("Alice Able", "Bob Brown")):
        p = uuid.uuid4()
        tenancy_seed.register(db, clinic, p, mrn=f"MRN-{i}")
        _profile(db, p, name, clinic)
        for table in ("health_metrics", "symptoms", "therapy_sessions", "predictions", "medications"):
            records_seed.record(db, table, p)
        w.mine.append(p)
    now = dt.datetime.now(dt.UTC)
    for day in range(14):  # two weeks of readings for the first patient's charts
        at = now - dt.timedelta(days=day, hours=2)
        records_seed.record(db, "health_metrics", w.mine[0], at=at, value=64.0 + (day * 7) % 15)
        records_seed.record(db, "health_metrics", w.mine[0], at=at, metric_type="systolic_bp", unit="mmHg",
                            value=118.0 + (day * 5) % 17)
    w.outsider = uuid.uuid4()
    tenancy_seed.register(db, other, w.outsider, mrn="MRN-X")
    _profile(db, w.outsider, "Olga Outsider", other)
    records_seed.record(db, "symptoms", w.outsider, description="outsider secret complaint")
    return w


@pytest.fixture(scope="session")
def console_app(pg_url, tmp_path_factory):
    app = create_app(testing.settings_for(pg_url, data_dir=tmp_path_factory.mktemp("console-server")),
                     auth=AuthSettings(signin_per_ip=10_000, signin_per_email=10_000, refresh_per_ip=10_000))
    yield app
    app.state.db.close()


def login_csrf(client) -> str:
    page = client.get("/console/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    """Submit the sign-in form as a browser would; returns the response (a 303 to the role's home on success)."""
    return client.post("/console/login", data={"email": email, "password": password, "csrf": login_csrf(client)},
                       follow_redirects=False)


def page_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def browser_client(console_app):
    """A fresh TestClient per test (its own cookie jar), on https so the Secure cookie flag shows."""
    from fastapi.testclient import TestClient

    with TestClient(console_app, base_url="https://testserver") as c:
        yield c


def signed_in(console_app, world: World, role: str):
    return signed_in_as(console_app, world.users[role][1])


@pytest.fixture
def devices(tmp_path, console_app):
    """Edge devices enrolled with the console's app (tests/sync's helper)."""
    from fastapi.testclient import TestClient

    with TestClient(console_app) as http:
        d = sync_fixtures.Devices(tmp_path, http)
        yield d
        d.close()


def patient_user(db, clinic: uuid.UUID, name: str) -> tuple[uuid.UUID, str]:
    """A patient registered at `clinic`, with a profile, who signs in (their sign-in's id is their record's id, as
    after a claim); returns (id, email)."""
    import secrets

    from sync_server import auth_users

    patient, email = uuid.uuid4(), f"p{secrets.token_hex(6)}@patients.example"
    tenancy_seed.register(db, clinic, patient, mrn=f"MRN-{patient.hex[:6]}")
    _profile(db, patient, name, clinic)
    with db.session("service_role", {"role": "service_role"}) as conn:
        auth_users.create_user(conn, email, PASSWORD, full_name=name, app_metadata={"role": "patient"},
                               user_id=patient)
    return patient, email


def matched_doctor(db, clinic: uuid.UUID, name: str) -> tuple[uuid.UUID, str, str]:
    """A new doctor of `clinic` who signs in, with a specialty nobody else has (so every request of it is matched
    to them alone); returns (user id, email, specialty)."""
    from sync_server import tenancy
    from tests.server.marketplace_world import WEEKDAYS

    user, email = add_user(db, role="doctor", clinic=clinic, name=name)
    specialty = "spec-" + uuid.uuid4().hex[:8]
    with db.admin() as conn:
        tenancy.add_doctor(conn, user, clinic, specialty, name=name, languages=["en"], price_min=40, price_max=200,
                           working_hours=WEEKDAYS)
    return user, email, specialty


def signed_in_as(console_app, email: str):
    """A TestClient signed in to the console with this email (any role)."""
    from fastapi.testclient import TestClient

    c = TestClient(console_app, base_url="https://testserver")
    r = sign_in(c, email)
    assert r.status_code == 303, r.text
    return c


def silence(db, device_id: str) -> None:
    """Make a device's last contact (its report, pushes, pulls, enrolment) two hours old or more."""
    with db.admin() as conn:
        for sql in ("UPDATE device_reports SET reported_at = now() - interval '2 hours', last_push_at = NULL, "
                    "last_pull_at = NULL WHERE device_id = %s",
                    "UPDATE sync_applied SET applied_at = now() - interval '2 hours' WHERE device_id = %s",
                    "UPDATE sync_devices SET enrolled_at = now() - interval '3 hours' WHERE id = %s",
                    "UPDATE audit_log SET at = now() - interval '2 hours' WHERE device_id = %s"):
            conn.execute(sql, (device_id,))
