"""Test helpers: a random clinic world (clinics, staff, registrations, doctors, appointments, metrics) seeded on the
server as the login role, a device enrolled over HTTP for any user, and that user's view through the API and pull."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol import request_auth
from protocol.changeset import raw_public
from sync_server import tenancy, testing


@dataclass
class World:
    """Everything seeded, by id, so an oracle can be computed from it in plain Python."""

    clinics: list[uuid.UUID] = field(default_factory=list)
    staff: dict[tuple[uuid.UUID, uuid.UUID], str] = field(default_factory=dict)  # (clinic, user) -> role
    roles: dict[uuid.UUID, str] = field(default_factory=dict)  # user -> the role their token carries
    registrations: dict[tuple[uuid.UUID, uuid.UUID], str] = field(default_factory=dict)  # (clinic, patient) -> status
    doctors: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # doctor id -> user
    appointments: list[tuple[uuid.UUID, uuid.UUID, int]] = field(default_factory=list)  # (doctor, patient, days ago)
    metrics: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # row id -> patient


def seed(db, world: World) -> None:
    """Write the world with the login role (as the CLI and a kiosk's sync would have)."""
    now = dt.datetime.now(dt.UTC)
    with db.admin() as conn:
        for (c, u), role in world.staff.items():
            tenancy.add_staff(conn, c, u, role)
        for (c, p), status in world.registrations.items():
            conn.execute("INSERT INTO registrations (id, clinic_id, user_id, status, hlc) VALUES (%s, %s, %s, %s, 's')",
                         (tenancy.registration_id(c, p), c, p, status))
        for d, u in world.doctors.items():
            conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr', 'gp', "
                         "'s')", (d, u))
        for d, p, days_ago in world.appointments:
            conn.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, hlc) VALUES "
                         "(%s, %s, %s, %s, 's')", (uuid.uuid4(), p, d, now - dt.timedelta(days=days_ago)))
        for row, p in world.metrics.items():
            conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                         "VALUES (%s, %s, 'heart_rate', 'bpm', 70, now(), 's')", (row, p))


def make_clinics(db, n: int) -> list[uuid.UUID]:
    with db.admin() as conn:
        return [uuid.UUID(tenancy.create_clinic(conn, f"clinic {i}")["id"]) for i in range(n)]


@dataclass
class Device:
    """A device enrolled over HTTP for one user with the role their token carries."""

    user: uuid.UUID
    role: str
    device_id: str
    signing: Ed25519PrivateKey

    def headers(self) -> dict[str, str]:
        return testing.auth(self.user, self.role)


def enroll(http, user: uuid.UUID, role: str, clinic: uuid.UUID | None = None):
    """POST /v1/devices for the user (a kiosk of `clinic` when given); returns (response, Device)."""
    signing, agreement = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    device_id = str(uuid.uuid4())
    body = {"device_id": device_id, "signing_key": raw_public(signing).hex(),
            "agreement_key": raw_public(agreement).hex(), "name": "test device"}
    if clinic is not None:
        body["clinic_id"] = str(clinic)
    r = http.post("/v1/devices", json=body, headers=testing.auth(user, role))
    return r, Device(user, role, device_id, signing)


def pulled(http, device: Device, table: str = "health_metrics", as_user: uuid.UUID | None = None,
           role: str | None = None) -> dict[str, dict]:
    """{pk: doc} of every `table` row the user sees through GET /v1/sync/pull, signed by the device."""
    out: dict[str, dict] = {}
    cursor = 0
    user, role = as_user or device.user, role or device.role
    while True:
        query = urlencode({"cursor": cursor, "limit": 5000, "table": table})
        proof = request_auth.sign_request(device.signing, device.device_id, "GET", "/v1/sync/pull", query.encode())
        r = http.get("/v1/sync/pull?" + query, headers={**testing.auth(user, role), **proof})
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        out.update({c["pk"]: c["doc"] for c in page["changes"] if not c["deleted"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            return out


def listed(http, user: uuid.UUID, role: str) -> set[str]:
    """The ids of the health_metrics rows GET /api/v1/health/metrics lists for the user."""
    r = http.get("/api/v1/health/metrics", params={"limit": 500}, headers=testing.auth(user, role))
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["data"]["items"]}
