"""The console through the real app (httpx, no browser): sign-in and cookies, CSRF, each role's screens, scope
under RLS whatever URL is typed, CSV import with its validation report, export."""
from __future__ import annotations

import uuid

import pytest

from tests.console.conftest import page_csrf, sign_in, signed_in, silence
from tests.sync.test_kiosk_device import _kiosk


def test_sign_in_sets_httponly_strict_secure_cookies_and_no_token_in_the_page(browser_client, world):
    r = sign_in(browser_client, world.users["doctor"][1])
    assert r.status_code == 303 and r.headers["location"] == "/console/patients"
    cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    session = [c for c in cookies if c.startswith(("hs_console_at=", "hs_console_rt="))]
    assert len(session) == 2
    for c in session:
        low = c.lower()
        assert "httponly" in low and "samesite=strict" in low and "secure" in low and "path=/" in low
    page = browser_client.get("/console/patients")
    token = browser_client.cookies.get("hs_console_at")
    assert page.status_code == 200 and token and token not in page.text
    assert "localStorage" not in page.text and page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_wrong_password_is_refused_and_a_patient_goes_to_their_own_screen(browser_client, world, db):
    r = sign_in(browser_client, world.users["doctor"][1], "not-the-password-at-all")
    assert r.status_code == 200 and "Wrong email or password" in r.text
    assert "hs_console_at" not in browser_client.cookies
    from tests.auth.conftest import add_user

    _, email = add_user(db, name="Pat Patient")  # no role claim: a patient
    r = sign_in(browser_client, email)
    assert r.status_code == 303 and r.headers["location"] == "/console/my-care"
    assert browser_client.get("/console/patients").status_code == 403


def test_login_form_needs_its_csrf_token(browser_client, world):
    r = browser_client.post("/console/login", data={"email": world.users["doctor"][1], "password": "x",
                                                    "csrf": "forged"})
    assert r.status_code == 403


def test_unsigned_visitor_is_sent_to_sign_in(browser_client):
    r = browser_client.get("/console/patients", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    r = browser_client.get("/console/devices", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers.get("hx-redirect") == "/console/login"


def test_doctor_sees_their_patients_and_chart(console_app, world):
    c = signed_in(console_app, world, "doctor")
    page = c.get("/console/patients").text
    assert "Alice Able" in page and "Bob Brown" in page and "Olga Outsider" not in page
    chart = c.get(f"/console/patients/{world.mine[0]}")
    assert chart.status_code == 200
    for text in ("Metrics over time", "chest pain", "RED FLAG", "<mark", "squat", "diabetes", "metformin",
                 "family-graph", "series-data"):
        assert text in chart.text, text


def test_doctor_typing_another_patients_url_sees_nothing(console_app, world):
    c = signed_in(console_app, world, "doctor")
    for url in (f"/console/patients/{world.outsider}", f"/console/patients/{uuid.uuid4()}", "/console/patients/x"):
        r = c.get(url)
        assert r.status_code == 404 and "Olga" not in r.text and "outsider secret" not in r.text
    # The search is scoped too.
    page = c.get("/console/patients").text
    r = c.post("/console/patients/search", data={"q": "Olga", "csrf": page_csrf(page)})
    assert r.status_code == 200 and "Olga" not in r.text
    # The API with the same doctor's token answers nothing of the outsider either.
    from sync_server.testing import auth

    api = c.get("/api/v1/health/symptoms", params={"user_id": str(world.outsider)},
                headers=auth(world.users["doctor"][0], "doctor"))
    assert api.json()["data"]["items"] == []


def test_roles_only_reach_their_screens(console_app, world):
    nurse = signed_in(console_app, world, "nurse")
    assert nurse.get("/console/devices").status_code == 403
    assert nurse.get("/console/queue").status_code == 200
    doctor = signed_in(console_app, world, "doctor")
    assert doctor.get("/console/import").status_code == 403
    assert doctor.get("/console/appointments").status_code == 200


def test_queue_lists_todays_check_ins(console_app, world, db):
    import datetime as dt

    from tests.server import records_seed

    records_seed.record(db, "check_ins", world.mine[1], at=dt.datetime.now(dt.UTC), clinic_id=world.clinic,
                        recorded_by=world.users["nurse"][0])
    page = signed_in(console_app, world, "nurse").get("/console/queue").text
    assert "Bob Brown" in page and "min" in page


def test_forms_refuse_a_missing_or_wrong_csrf_token(console_app, world):
    c = signed_in(console_app, world, "admin")
    r = c.post("/console/manage/staff", data={"clinic_id": str(world.clinic), "user_id": str(uuid.uuid4()),
                                              "role": "nurse", "csrf": "wrong"})
    assert r.status_code == 403
    r = c.post("/console/import", data={"kind": "patients", "clinic_id": str(world.clinic)},
               files={"file": ("p.csv", b"full_name,mrn\nZed,Z1\n", "text/csv")})
    assert r.status_code == 403


PATIENTS_CSV = (b"full_name,date_of_birth,sex,email,phone,mrn\n"
                b"Carla Csv,1980-02-03,female,carla@example.org,,CSV-1\n"
                b"Bad Date,1980-13-40,female,,,CSV-2\n"
                b"No Record,1990-01-01,male,,,\n"
                b"Future Kid,2999-01-01,,,,CSV-4\n"
                b"Dup,1970-01-01,,,,CSV-1\n"
                b"Dan Csv,1985-06-07,male,not-an-email,,CSV-6\n"
                b"Eve Csv,1975-01-01,female,,,CSV-7\n")


def _upload(c, data: bytes, kind="patients", good_only=False, clinic=None):
    page = c.get("/console/import").text
    form = {"csrf": page_csrf(page), "kind": kind, "clinic_id": str(clinic)}
    if good_only:
        form["good_only"] = "true"
    return c.post("/console/import", data=form, files={"file": ("upload.csv", data, "text/csv")})


def _registered(db, clinic, mrn_prefix):
    with db.admin() as conn:
        return sorted(r["mrn"] for r in conn.execute("SELECT mrn FROM registrations WHERE clinic_id = %s AND mrn "
                                                     "LIKE %s", (clinic, mrn_prefix + "%")).fetchall())


def test_csv_with_bad_rows_gets_a_report_and_imports_nothing(console_app, world, db):
    c = signed_in(console_app, world, "admin")
    r = _upload(c, PATIENTS_CSV, clinic=world.clinic)
    assert r.status_code == 422
    for line, needle in ((3, "date_of_birth"), (4, "mrn"), (5, "date_of_birth"), (6, "repeats line 2"),
                         (7, "email")):
        assert f"<td>{line}</td>" in r.text and needle in r.text, (line, needle)
    assert "Nothing was imported" in r.text
    assert _registered(db, world.clinic, "CSV-") == []
    # The good rows only, by choice:
    r = _upload(c, PATIENTS_CSV, clinic=world.clinic, good_only=True)
    assert r.status_code == 200 and "2 good rows imported" in r.text
    assert _registered(db, world.clinic, "CSV-") == ["CSV-1", "CSV-7"]
    # Fixed file: the remaining rows go in; the already-registered ones are reported, not doubled.
    r = _upload(c, b"full_name,mrn\nCarla Csv,CSV-1\nFixed Date,CSV-2\n", clinic=world.clinic)
    assert "already registered" in r.text and _registered(db, world.clinic, "CSV-") == ["CSV-1", "CSV-7"]


def test_csv_header_problems_are_reported(console_app, world):
    c = signed_in(console_app, world, "admin")
    r = _upload(c, b"name,colour\nx,y\n", clinic=world.clinic)
    assert r.status_code == 422 and "missing column(s) full_name, mrn" in r.text and "unknown column(s)" in r.text


def test_admin_cannot_import_into_another_clinic(console_app, world, db):
    c = signed_in(console_app, world, "admin")
    r = _upload(c, b"full_name,mrn\nSneaky,SNK-1\n", clinic=world.other_clinic)
    assert r.status_code == 422 and _registered(db, world.other_clinic, "SNK-") == []


def test_doctor_import_and_export(console_app, world, db):
    from tests.auth.conftest import add_user

    new_doc, _ = add_user(db, name="Dr New")
    csv_text = (f"user_id,full_name,specialty,languages,price_min,price_max\n"
                f"{new_doc},Dr New,cardiology,en;fr,50,80\nnot-a-uuid,Dr Bad,x,,,\n").encode()
    c = signed_in(console_app, world, "admin")
    r = _upload(c, csv_text, kind="doctors", clinic=world.clinic)
    assert r.status_code == 422 and "not a user id" in r.text
    r = _upload(c, csv_text, kind="doctors", clinic=world.clinic, good_only=True)
    assert r.status_code == 200
    export = c.get("/console/export/doctors.csv")
    assert export.status_code == 200 and "Dr New,cardiology,en;fr" in export.text
    patients = c.get("/console/export/patients.csv").text
    assert "Alice Able" in patients and "Olga" not in patients


def test_admin_sees_a_device_go_quiet(console_app, world, db, devices):
    kiosk = _kiosk(devices, world.clinic, world.users["nurse"][0])
    kiosk.run()
    c = signed_in(console_app, world, "admin")
    page = c.get("/console/devices").text
    row = page[page.index(f'data-device="{kiosk.store.device_id}"'):]
    assert "gone quiet" not in row[:400] and "<td>ok</td>" in row[:400]
    silence(db, kiosk.store.device_id)  # the kiosk last spoke two hours ago
    page = c.get("/console/devices").text
    row = page[page.index(f'data-device="{kiosk.store.device_id}"'):]
    assert "gone quiet" in row[:400]


@pytest.mark.parametrize("path", ["/console/audit", "/console/analytics", "/console/manage", "/console/import"])
def test_admin_screens_render(console_app, world, path):
    r = signed_in(console_app, world, "admin").get(path)
    assert r.status_code == 200, r.text


def test_audit_search_by_patient_flags_break_glass(console_app, world):
    c = signed_in(console_app, world, "doctor")
    c.get(f"/console/patients/{world.mine[0]}")  # audited reads
    admin = signed_in(console_app, world, "admin")
    page = admin.get("/console/audit", params={"patient": str(world.mine[0])}).text
    assert "read" in page and str(world.mine[0]) in page
    assert "Not an id" in admin.get("/console/audit", params={"staff": "nope"}).text


def test_sign_out_revokes_the_session(console_app, world):
    c = signed_in(console_app, world, "nurse")
    page = c.get("/console/queue").text
    r = c.post("/console/logout", data={"csrf": page_csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and "hs_console_at" not in c.cookies


def test_admin_sees_quarantined_changes_with_their_reason(console_app, world, devices):
    kiosk = _kiosk(devices, world.clinic, world.users["nurse"][0])
    stranger = uuid.uuid4()  # registered nowhere: the server refuses the nurse's write, the kiosk quarantines it
    kiosk.store.health_metrics.add({"user_id": stranger, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
    kiosk.run()
    page = signed_in(console_app, world, "admin").get("/console/devices").text
    section = page[page.index("Quarantined changes across the clinic"):]
    assert "Front desk" in section and "health_metrics" in section and "None reported" not in section


def test_expired_access_token_is_refreshed_through_the_auth_server(console_app, world):
    from fastapi.testclient import TestClient

    signed = signed_in(console_app, world, "nurse")
    refresh = signed.cookies.get("hs_console_rt")
    c = TestClient(console_app, base_url="https://testserver")
    c.cookies.set("hs_console_at", "expired.or.garbage")
    c.cookies.set("hs_console_rt", refresh)
    r = c.get("/console/queue", follow_redirects=False)
    assert r.status_code == 200
    fresh = {v.split("=", 1)[0]: v for k, v in r.headers.multi_items() if k == "set-cookie"}
    assert set(fresh) >= {"hs_console_at", "hs_console_rt"}
    assert all("httponly" in fresh[n].lower() for n in ("hs_console_at", "hs_console_rt"))
    assert f"hs_console_rt={refresh};" not in fresh["hs_console_rt"]  # rotated
    # Without a usable refresh token either, the visitor is sent to sign in.
    bare = TestClient(console_app, base_url="https://testserver")
    bare.cookies.set("hs_console_at", "expired.or.garbage")
    bare.cookies.set("hs_console_rt", "not-a-refresh-token")
    assert bare.get("/console/queue", follow_redirects=False).headers["location"] == "/console/login"


def test_staff_management_is_under_the_admins_rls(console_app, world, db):
    c = signed_in(console_app, world, "admin")
    newcomer = uuid.uuid4()
    page = c.get("/console/manage").text
    r = c.post("/console/manage/staff", data={"csrf": page_csrf(page), "clinic_id": str(world.clinic),
                                              "user_id": str(newcomer), "role": "nurse"})
    assert "Staff member added as nurse" in r.text
    r = c.post("/console/manage/staff", data={"csrf": page_csrf(page), "clinic_id": str(world.other_clinic),
                                              "user_id": str(newcomer), "role": "admin"})
    assert "Not added" in r.text
    with db.admin() as conn:
        rows = conn.execute("SELECT clinic_id FROM clinic_staff WHERE user_id = %s", (newcomer,)).fetchall()
    assert [r["clinic_id"] for r in rows] == [world.clinic]
    r = c.post("/console/manage/staff/remove", data={"csrf": page_csrf(page), "clinic_id": str(world.clinic),
                                                     "user_id": str(newcomer)})
    assert "Staff member removed" in r.text


def test_alerts_and_care_requests_of_another_clinic_stay_out_of_sight_and_reach(console_app, world, db):
    from sync_server import testing
    from tests.server.marketplace_world import RED_FLAG_TRIAGE, add_symptom, slot

    symptom = add_symptom(db, world.outsider, RED_FLAG_TRIAGE, description="outsider chest pain")
    with db.admin() as conn:
        alert = conn.execute("SELECT id FROM health_alerts WHERE symptom_id = %s", (symptom,)).fetchone()["id"]
    nurse = signed_in(console_app, world, "nurse")
    csrf = page_csrf(nurse.get("/console/queue").text)
    assert str(alert) not in nurse.get("/console/alerts", headers={"HX-Request": "true"}).text
    r = nurse.post(f"/console/alerts/{alert}/acknowledge", data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Not acknowledged" in r.text
    with db.admin() as conn:
        assert conn.execute("SELECT acknowledged_at FROM health_alerts WHERE id = %s",
                            (alert,)).fetchone()["acknowledged_at"] is None

    opened = nurse.post("/api/v1/appointments", headers=testing.auth(world.outsider),
                        json={"description": "outsider request", "specialty": "scope-" + uuid.uuid4().hex[:6]})
    assert opened.status_code == 201, opened.text
    appt = opened.json()["data"]["id"]
    assert appt not in nurse.get("/console/requests").text
    doctor = signed_in(console_app, world, "doctor")
    assert appt not in doctor.get("/console/requests").text and "outsider request" not in doctor.get(
        "/console/requests").text
    start, _ = slot(24)
    r = doctor.post(f"/console/requests/{appt}/bid", headers={"HX-Request": "true"},
                    data={"csrf": page_csrf(doctor.get("/console/requests").text), "price": "50",
                          "slot_start": start[:16], "minutes": "30"})
    assert r.status_code == 200 and "Bid not placed" in r.text
    for bad in ({"price": "lots"}, {"price": "-1"}, {"slot_start": "tomorrow"}, {"minutes": "0"}):
        r = doctor.post(f"/console/requests/{appt}/bid", headers={"HX-Request": "true"},
                        data={"csrf": page_csrf(doctor.get("/console/requests").text), "price": "50",
                              "slot_start": start[:16], "minutes": "30", **bad})
        assert r.status_code == 200 and "give a price" in r.text, bad
    with db.admin() as conn:
        assert conn.execute("SELECT count(*) AS n FROM appointment_bids WHERE appointment_id = %s",
                            (appt,)).fetchone()["n"] == 0
