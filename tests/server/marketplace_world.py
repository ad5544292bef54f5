"""A small clinic world for the marketplace tests: a clinic, a nurse, registered patients, cardiologists at known
places, a dermatologist, seeded as the login role through the same helpers the CLI uses."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from protocol.schema import new_id
from sync_server import tenancy
from sync_server.testing import auth

WEEKDAYS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
RED_FLAG_TRIAGE = {"urgency": "emergency", "specialty": "cardiology",
                   "red_flags": [{"id": "cardiac_chest_pain", "title": "Chest pain that may be cardiac"}]}


@dataclass
class World:
    clinic: uuid.UUID
    nurse: uuid.UUID
    patients: list[uuid.UUID]
    doctors: dict[str, dict] = field(default_factory=dict)  # name -> {"user": uuid, "id": uuid}

    def doctor_headers(self, name: str) -> dict[str, str]:
        return auth(self.doctors[name]["user"], "doctor")


def seed(db, *, specialty: str = "cardiology", n_doctors: int = 3, n_patients: int = 2,
         tag: str | None = None) -> World:
    """Seed a world. Doctors of `specialty` sit 1, 5, 20 … km north of (51.5, 0.0) with ratings 4.0, 4.5, …"""
    tag = tag or uuid.uuid4().hex[:8]
    with db.admin() as conn:
        clinic = uuid.UUID(tenancy.create_clinic(conn, f"Clinic {tag}")["id"])
        nurse = uuid.uuid4()
        tenancy.add_staff(conn, clinic, nurse, "nurse")
        patients = [uuid.uuid4() for _ in range(n_patients)]
        for p in patients:
            register(conn, clinic, p)
        world = World(clinic, nurse, patients)
        for i in range(n_doctors):
            user = uuid.uuid4()
            entry = tenancy.add_doctor(conn, user, clinic, f"{specialty}", name=f"Dr {tag} {i}", languages=["en"],
                                       price_min=50 + 10 * i, price_max=200, working_hours=WEEKDAYS)
            conn.execute("UPDATE doctors SET latitude = %s, longitude = 0.0, rating = %s WHERE id = %s",
                         (51.5 + [1, 5, 20, 40, 80][i % 5] / 111.0, 4.0 + 0.25 * i, entry["id"]))
            world.doctors[f"d{i}"] = {"user": user, "id": uuid.UUID(entry["id"])}
    return world


def register(conn, clinic: uuid.UUID, patient: uuid.UUID) -> None:
    conn.execute("INSERT INTO registrations (clinic_id, id, user_id, hlc) VALUES (%s, %s, %s, 'seed')",
                 (clinic, tenancy.registration_id(clinic, patient), patient))


def add_symptom(db, patient: uuid.UUID, triage: dict, description: str = "crushing chest pain") -> uuid.UUID:
    """A symptom row as a push would insert it (the login role: triggers run exactly as for a push)."""
    sid = new_id()
    with db.admin() as conn:
        conn.execute("INSERT INTO symptoms (id, user_id, description, severity, recorded_at, triage, hlc) "
                     "VALUES (%s, %s, %s, 8, now(), %s::jsonb, 'seed')", (sid, patient, description,
                                                                        json.dumps(triage)))
    return sid


def slot(hours_ahead: float, minutes: int = 30) -> tuple[str, str]:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
    return start.isoformat(), (start + dt.timedelta(minutes=minutes)).isoformat()
