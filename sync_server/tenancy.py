"""Clinics, their staff and doctor directory entries (run by operators as the login role), and break-glass grants
(run by staff under their own RLS). The SQL and the access rules are migrations 0050 and 0051."""
from __future__ import annotations

import json
import uuid
from typing import Any

from protocol.errors import ForbiddenError, NotFoundError, ValidationError
from protocol.hlc import HybridLogicalClock

STAFF_ROLES = ("nurse", "doctor", "admin")
NIL_TENANT = uuid.UUID(int=0)  # the tenant of rows of a patient registered nowhere
_HLC = HybridLogicalClock(node=f"cli-{uuid.uuid4().hex[:12]}")


def registration_id(clinic_id: uuid.UUID | str, patient_id: uuid.UUID | str) -> uuid.UUID:
    """The derived id of a patient's registration at a clinic (the contract's derived_id("registrations",
    "<clinic>:<patient>"): uuid5 in protocol.schema's namespace over "registrations:<clinic>:<patient>")."""
    from protocol.schema import derived_id

    return derived_id("registrations", f"{clinic_id}:{patient_id}")


def _one(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else row[0]


def create_clinic(conn, name: str) -> dict[str, Any]:
    """A new clinic (tenant); returns {id, name}."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError("a clinic name is 1 to 200 characters", field="name")
    row = conn.execute("INSERT INTO clinics (name) VALUES (%s) RETURNING id", (name,)).fetchone()
    return {"id": str(_one(row, "id")), "name": name}


def _require_clinic(conn, clinic_id: uuid.UUID) -> None:
    if conn.execute("SELECT 1 FROM clinics WHERE id = %s", (clinic_id,)).fetchone() is None:
        raise NotFoundError(f"no clinic {clinic_id}", hint="create one: healthsync server clinic create NAME")


def _auth_users_exist(conn) -> bool:
    return bool(_one(conn.execute("SELECT to_regclass('auth.users') IS NOT NULL AS x").fetchone(), "x"))


def _may_read_auth_users(conn) -> bool:
    return bool(_one(conn.execute("SELECT CASE WHEN to_regclass('auth.users') IS NULL THEN false "
                                  "ELSE has_table_privilege('auth.users', 'SELECT') END AS x").fetchone(), "x"))


def _may_update_auth_users(conn) -> bool:
    return bool(_one(conn.execute("SELECT CASE WHEN to_regclass('auth.users') IS NULL THEN false "
                                  "ELSE has_table_privilege('auth.users', 'UPDATE') END AS x").fetchone(), "x"))


def add_staff(conn, clinic_id: uuid.UUID, user_id: uuid.UUID, role: str) -> dict[str, Any]:
    """Make a user staff of a clinic with a role (a second call changes the role). Whoever writes the membership
    (the operator, or a clinic admin under RLS in the console), 0092's trigger gives the user's sign-in the same
    role and clinic in its app_metadata when the embedded auth's `auth.users` exists, so their next token agrees."""
    if role not in STAFF_ROLES:
        raise ValidationError(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    _require_clinic(conn, clinic_id)
    conn.execute("INSERT INTO clinic_staff (clinic_id, user_id, role) VALUES (%s, %s, %s) "
                 "ON CONFLICT (clinic_id, user_id) DO UPDATE SET role = EXCLUDED.role", (clinic_id, user_id, role))
    synced = False
    if _may_read_auth_users(conn):  # the operator can see the trigger's work; an admin under RLS cannot
        row = conn.execute("SELECT raw_app_meta_data ->> 'role' AS role FROM auth.users WHERE id = %s",
                           (user_id,)).fetchone()
        synced = row is not None and _one(row, "role") == role
    return {"id": f"{clinic_id}:{user_id}", "clinic_id": str(clinic_id), "user_id": str(user_id), "role": role,
            "auth_metadata_updated": synced}


def create_clinic_as_platform_admin(conn, name: str, first_admin: uuid.UUID | None,
                                    request_id: str | None = None) -> dict[str, Any]:
    """Under the caller's own identity: a new clinic with its first admin (default the caller), by 0092's
    app.create_clinic, which refuses anyone without the platform-admin claim and writes the audit row."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError("a clinic name is 1 to 200 characters", field="name")
    row = conn.execute("SELECT app.create_clinic(%s, %s, %s) AS id", (name, first_admin, request_id)).fetchone()
    return {"id": str(_one(row, "id")), "name": name}


def set_platform_admin(conn, user_id: uuid.UUID, granted: bool) -> dict[str, Any]:
    """As the operator: give (or take back) a sign-in's platform-admin claim, which lets them create clinics. A
    sign-in with no staff role gets the admin role with it, so the console's admin screens open for them."""
    if not _may_update_auth_users(conn):
        raise ValidationError("the sign-in users are not in this database (an external Supabase project): set "
                              "app_metadata.platform_admin there", field="user")
    if granted:
        sql = ("UPDATE auth.users SET updated_at = now(), raw_app_meta_data = coalesce(raw_app_meta_data, '{}') || "
               "jsonb_build_object('platform_admin', true, 'role', CASE WHEN raw_app_meta_data ->> 'role' IN "
               "('nurse', 'doctor', 'admin') THEN raw_app_meta_data ->> 'role' ELSE 'admin' END) WHERE id = %s")
    else:
        sql = ("UPDATE auth.users SET updated_at = now(), raw_app_meta_data = (raw_app_meta_data - 'platform_admin') "
               "|| CASE WHEN raw_app_meta_data ->> 'role' = 'admin' AND NOT EXISTS (SELECT 1 FROM clinic_staff s "
               "WHERE s.user_id = auth.users.id) THEN '{\"role\": \"patient\"}'::jsonb ELSE '{}'::jsonb END "
               "WHERE id = %s")
    if conn.execute(sql, (user_id,)).rowcount != 1:
        raise NotFoundError(f"no sign-in user {user_id}", hint="create one: healthsync server user add")
    return {"user_id": str(user_id), "platform_admin": granted}


def display_name(conn, user_id: uuid.UUID) -> str | None:
    """A user's name for people to read: their profile's, else their sign-in's (name, else email); None if unknown."""
    row = conn.execute("SELECT full_name FROM users WHERE id = %s AND full_name IS NOT NULL", (user_id,)).fetchone()
    if row is not None:
        return _one(row, "full_name")
    if _auth_users_exist(conn):
        row = conn.execute("SELECT coalesce(raw_user_meta_data ->> 'full_name', email) AS n FROM auth.users "
                           "WHERE id = %s", (user_id,)).fetchone()
        if row is not None and _one(row, "n"):
            return _one(row, "n")
    return None


def add_doctor(conn, user_id: uuid.UUID, clinic_id: uuid.UUID, specialty: str, *, name: str | None = None,
               languages: list[str] | None = None, price_min: float | None = None, price_max: float | None = None,
               working_hours: dict[str, Any] | None = None) -> dict[str, Any]:
    """A doctor directory entry linked to a user at a clinic; the user also becomes the clinic's doctor (staff),
    which puts the clinic's registered patients in their care (0051)."""
    specialty = specialty.strip()
    if not 1 <= len(specialty) <= 100:
        raise ValidationError("a specialty is 1 to 100 characters", field="specialty")
    langs = [x.strip().lower() for x in (languages or []) if x.strip()]
    if any(not (2 <= len(x) <= 8 and x.replace("-", "").isalpha()) for x in langs):
        raise ValidationError("languages are language tags such as en, fr, pt-br", field="languages")
    for field, value in (("price_min", price_min), ("price_max", price_max)):
        if value is not None and not value >= 0:
            raise ValidationError(f"{field} must be a non-negative number", field=field)
    if price_min is not None and price_max is not None and price_min > price_max:
        raise ValidationError("price_min must not exceed price_max", field="price_min")
    if working_hours is not None and not isinstance(working_hours, dict):
        raise ValidationError("working hours are a JSON object, e.g. {\"mon\": [\"09:00-17:00\"]}",
                              field="working_hours")
    _require_clinic(conn, clinic_id)
    if conn.execute("SELECT 1 FROM doctors WHERE user_id = %s AND NOT deleted", (user_id,)).fetchone():
        raise ValidationError(f"user {user_id} already has a doctor directory entry", field="user")
    full_name = (name or display_name(conn, user_id) or f"Dr {str(user_id)[:8]}")[:200]
    doctor_id = uuid.uuid4()
    conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, clinic_id, languages, price_min, price_max, "
                 "working_hours, hlc) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
                 (doctor_id, user_id, full_name, specialty, clinic_id, langs, price_min, price_max,
                  json.dumps(working_hours or {}), _HLC.now().encode()))
    if conn.execute("SELECT 1 FROM clinic_staff WHERE clinic_id = %s AND user_id = %s",
                    (clinic_id, user_id)).fetchone() is None:
        # Through add_staff, so the doctor's sign-in carries the doctor role too: the care policies read the role
        # claim for appointment patients, and a claim only narrows access (a "patient" token saw nothing).
        add_staff(conn, clinic_id, user_id, "doctor")
    return {"id": str(doctor_id), "user_id": str(user_id), "clinic_id": str(clinic_id), "full_name": full_name,
            "specialty": specialty, "languages": langs, "price_min": price_min, "price_max": price_max,
            "working_hours": working_hours or {}}


def open_break_glass(conn, staff_id: uuid.UUID, patient_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """Under the caller's own RLS: a time-limited grant to read one patient outside the caller's scope, with the
    stated reason; audited and flagged (audit_log.break_glass)."""
    reason = reason.strip()
    if not 10 <= len(reason) <= 1000:
        raise ValidationError("state the reason in 10 to 1000 characters", field="reason")
    clinic = conn.execute("SELECT c AS clinic_id FROM app.my_clinics('{nurse,doctor,admin}') c LIMIT 1").fetchone()
    if clinic is None:
        raise ForbiddenError("only clinic staff may break the glass", hint="ask a clinic admin to add you as staff")
    row = conn.execute(
        "INSERT INTO break_glass (clinic_id, staff_id, patient_id, reason, expires_at) VALUES (%s, %s, %s, %s, "
        "now() + make_interval(mins => (app.setting('break_glass_minutes', '60'))::text::int)) "
        "RETURNING id, opened_at, expires_at", (_one(clinic, "clinic_id"), staff_id, patient_id, reason)).fetchone()
    return {"id": str(row["id"]), "patient_id": str(patient_id), "clinic_id": str(_one(clinic, "clinic_id")),
            "opened_at": row["opened_at"].isoformat(), "expires_at": row["expires_at"].isoformat()}
