"""Clinics and staff managed in the console: only a platform admin (app_metadata.platform_admin, given by the
operator) creates a clinic, enforced by 0092's app.create_clinic whatever the page shows and audited; a clinic
admin who is not one, a doctor and a patient are refused, hand-made POSTs and SQL included. Staff added in the
console get their role claim from the membership (0092's trigger) and sign in with it, no CLI step; removed, they
are patients again; and a clinic admin cannot rewrite the claims of another clinic's staff member."""
from __future__ import annotations

import uuid

import pytest

from protocol.errors import ForbiddenError
from sync_server import tenancy
from tests.auth.conftest import add_user
from tests.console.conftest import page_csrf, patient_user, sign_in, signed_in, signed_in_as
from tests.server import tenancy_seed


def _platform_admin(db, clinic: uuid.UUID) -> tuple[uuid.UUID, str]:
    user, email = add_user(db, role="admin", clinic=clinic, name="Pia Platform")
    tenancy_seed.staff(db, clinic, "admin", user)
    with db.admin() as conn:  # the operator: `healthsync server staff platform-admin --user ID`
        assert tenancy.set_platform_admin(conn, user, True) == {"user_id": str(user), "platform_admin": True}
    return user, email


def _clinics_named(db, name: str) -> list[dict]:
    with db.admin() as conn:
        return conn.execute("SELECT id FROM clinics WHERE name = %s", (name,)).fetchall()


def _app_metadata(db, user: uuid.UUID) -> dict:
    with db.admin() as conn:
        return conn.execute("SELECT raw_app_meta_data AS m FROM auth.users WHERE id = %s", (user,)).fetchone()["m"]


def test_a_platform_admin_creates_a_clinic_and_its_first_admin_signs_in_to_it(console_app, world, db):
    admin, email = _platform_admin(db, world.clinic)
    c = signed_in_as(console_app, email)
    page = c.get("/console/manage").text
    assert "Create clinic" in page
    name = f"Lakeside {uuid.uuid4().hex[:6]}"
    r = c.post("/console/manage/clinics", data={"csrf": page_csrf(page), "name": f"  {name} ", "first_admin": ""})
    assert f"Clinic {name} created." in r.text and name in r.text  # listed among the admin's clinics
    [clinic] = _clinics_named(db, name)
    with db.admin() as conn:
        staff = conn.execute("SELECT user_id, role FROM clinic_staff WHERE clinic_id = %s", (clinic["id"],)).fetchall()
        audit = conn.execute("SELECT actor, action, detail FROM audit_log WHERE table_name = 'clinics' AND row_id = %s",
                             (clinic["id"],)).fetchall()
    assert [(s["user_id"], s["role"]) for s in staff] == [(admin, "admin")]
    assert [(a["actor"], a["action"], a["detail"]["first_admin"]) for a in audit] == [(admin, "create", str(admin))]

    # Naming someone else as the first admin: a fresh sign-in, who then opens the admin screens with that clinic.
    newcomer, newcomer_email = add_user(db, name="Fred First")
    second = f"Hillcrest {uuid.uuid4().hex[:6]}"
    r = c.post("/console/manage/clinics", data={"csrf": page_csrf(page), "name": second,
                                                "first_admin": str(newcomer)})
    assert f"Clinic {second} created." in r.text
    assert _app_metadata(db, newcomer)["role"] == "admin"
    fresh = signed_in_as(console_app, newcomer_email)
    assert sign_in(fresh, newcomer_email).headers["location"] == "/console/devices"
    assert second in fresh.get("/console/manage").text


def test_a_clinic_admin_doctor_and_patient_cannot_create_a_clinic(console_app, world, db):
    name = f"Rogue {uuid.uuid4().hex[:6]}"
    admin = signed_in(console_app, world, "admin")  # admin of a clinic, not a platform admin
    page = admin.get("/console/manage").text
    assert "Create clinic" not in page and "created by a platform admin" in page
    r = admin.post("/console/manage/clinics", data={"csrf": page_csrf(page), "name": name})  # hand-made
    assert "only a platform admin may create a clinic" in r.text
    doctor = signed_in(console_app, world, "doctor")
    csrf = page_csrf(doctor.get("/console/patients").text)
    assert doctor.post("/console/manage/clinics", data={"csrf": csrf, "name": name}).status_code == 403
    _, email = patient_user(db, world.clinic, "Penny Plain")
    patient = signed_in_as(console_app, email)
    csrf = page_csrf(patient.get("/console/my-care").text)
    assert patient.post("/console/manage/clinics", data={"csrf": csrf, "name": name}).status_code == 403
    assert _clinics_named(db, name) == []


@pytest.mark.parametrize("role", ["admin", "doctor", "patient"])
def test_the_database_refuses_clinic_creation_without_the_claim(db, world, role):
    user = world.users[role][0] if role in world.users else world.mine[0]
    claims = {"sub": str(user), "role": "authenticated",
              "app_metadata": {"role": role, "clinic_id": str(world.clinic), "platform_admin": "yes"}}  # not true
    name = f"Sql {uuid.uuid4().hex[:6]}"
    with pytest.raises(ForbiddenError), db.session("authenticated", claims) as conn:
        conn.execute("SELECT app.create_clinic(%s, NULL)", (name,))
    with pytest.raises(ForbiddenError), db.session("authenticated", claims) as conn:
        conn.execute("INSERT INTO clinics (name) VALUES (%s)", (name,))
    assert _clinics_named(db, name) == []


def test_staff_added_in_the_console_sign_in_with_their_role_and_lose_it_when_removed(console_app, world, db):
    member, email = add_user(db, name="Nora New")  # a plain sign-in: no role claim yet
    admin = signed_in(console_app, world, "admin")
    page = admin.get("/console/manage").text
    r = admin.post("/console/manage/staff", data={"csrf": page_csrf(page), "clinic_id": str(world.clinic),
                                                  "user_id": str(member), "role": "nurse"})
    assert "Staff member added as nurse" in r.text
    assert _app_metadata(db, member) | {"role": "nurse", "clinic_id": str(world.clinic)} == _app_metadata(db, member)
    nurse = signed_in_as(console_app, email)
    assert sign_in(nurse, email).headers["location"] == "/console/queue"
    assert nurse.get("/console/queue").status_code == 200

    admin.post("/console/manage/staff/remove", data={"csrf": page_csrf(page), "clinic_id": str(world.clinic),
                                                     "user_id": str(member)})
    meta = _app_metadata(db, member)
    assert meta["role"] == "patient" and "clinic_id" not in meta
    assert sign_in(nurse, email).headers["location"] == "/console/my-care"


def test_a_clinic_admin_cannot_take_in_another_clinics_staff_member(console_app, world, db):
    other_doctor = world.users["other_doctor"][0]
    before = _app_metadata(db, other_doctor)
    admin = signed_in(console_app, world, "admin")
    page = admin.get("/console/manage").text
    r = admin.post("/console/manage/staff", data={"csrf": page_csrf(page), "clinic_id": str(world.clinic),
                                                  "user_id": str(other_doctor), "role": "admin"})
    assert "Not added" in r.text
    assert _app_metadata(db, other_doctor) == before
    with db.admin() as conn:
        assert conn.execute("SELECT count(*) AS n FROM clinic_staff WHERE user_id = %s",
                            (other_doctor,)).fetchone()["n"] == 1
