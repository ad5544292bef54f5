"""Test helpers: clinics, staff and registrations seeded on the server as the login role (as the CLI does)."""
from __future__ import annotations

import uuid

from sync_server import tenancy


def clinic(db, name: str = "Clinic") -> uuid.UUID:
    """A new clinic's id."""
    with db.admin() as conn:
        return uuid.UUID(tenancy.create_clinic(conn, name)["id"])


def staff(db, clinic_id: uuid.UUID, role: str, user: uuid.UUID | None = None) -> uuid.UUID:
    """A user (new unless given) made staff of the clinic with `role`."""
    user = user or uuid.uuid4()
    with db.admin() as conn:
        tenancy.add_staff(conn, clinic_id, user, role)
    return user


def register(db, clinic_id: uuid.UUID, patient: uuid.UUID, status: str = "active", mrn: str | None = None) -> None:
    """The patient's registration at the clinic (their consent to share with it), as a kiosk's sync would write it."""
    with db.admin() as conn:
        conn.execute("INSERT INTO registrations (id, clinic_id, user_id, mrn, status, hlc) VALUES (%s, %s, %s, %s, %s, "
                     "'seed') ON CONFLICT (clinic_id, user_id) DO UPDATE SET status = EXCLUDED.status",
                     (tenancy.registration_id(clinic_id, patient), clinic_id, patient, mrn, status))
