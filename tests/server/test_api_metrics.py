"""GET/POST /api/v1/health/metrics through the real app on real Postgres: validation, isolation, paging, audit."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from sync_server.testing import auth
from tests.server import tenancy_seed
from tests.server.conftest import seed_doctor

URL = "/api/v1/health/metrics"


def post(client, user, body, role="patient"):
    return client.post(URL, json=body, headers=auth(user, role))


def audit_rows(db, actor):
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute("SELECT action, table_name, row_id, subject_id, request_id FROM audit_log "
                            "WHERE actor = %s ORDER BY at", (actor,)).fetchall()


def test_create_then_list_own_metric(client, db, patient):
    r = post(client, patient, {"metric_type": "heart_rate", "value": 72, "recorded_at": "2026-01-02T08:00:00Z"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True and body["data"]["user_id"] == str(patient)
    assert body["data"]["unit"] == "bpm" and body["data"]["hlc"].count(":") == 2
    listed = client.get(URL, headers=auth(patient)).json()["data"]
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["data"]["id"]
    actions = [(a["action"], a["subject_id"]) for a in audit_rows(db, patient)]
    assert actions == [("create", patient), ("read", patient)]
    assert audit_rows(db, patient)[0]["request_id"] == r.headers["x-request-id"]


def test_units_are_converted_like_the_edge(client, patient):
    # 5.5 mmol/L glucose = 99.1 mg/dL (factor 18.016, glucose molar mass 180.16 g/mol).
    r = post(client, patient, {"metric_type": "blood_glucose", "value": 5.5, "unit": "mmol/L"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["unit"] == "mg/dL"
    assert r.json()["data"]["value"] == pytest.approx(99.088, abs=1e-3)


@pytest.mark.parametrize(("body", "field"), [
    ({"metric_type": "heart_rate", "value": "fast"}, "value"),               # wrong type
    ({"metric_type": "heart_rate", "value": 400}, "value"),                  # above 250 bpm
    ({"metric_type": "heart_rate", "value": 5}, "value"),                    # below 20 bpm
    ({"metric_type": "unicorn_level", "value": 1}, "metric_type"),           # unknown type
    ({"metric_type": "heart-rate", "value": 70}, "metric_type"),             # pattern
    ({"metric_type": "heart_rate", "value": 70, "recorded_at": "2999-01-01T00:00:00Z"}, "recorded_at"),  # future
    ({"metric_type": "heart_rate", "value": 70, "unit": "furlongs"}, "unit"),
    ({"metric_type": "heart_rate", "value": 70, "colour": "red"}, "colour"),  # unknown field
    ({"value": 70}, "metric_type"),                                           # missing
])
def test_invalid_metric_is_a_422_naming_the_field(client, db, patient, body, field):
    r = post(client, patient, body)
    assert r.status_code == 422, r.text
    env = r.json()
    assert env["success"] is False and env["error"]["code"] == "VALIDATION_FAILED"
    assert env["error"]["field"] == field
    assert client.get(URL, headers=auth(patient)).json()["data"]["total"] == 0


def test_body_that_is_not_an_object_is_a_422(client, patient):
    r = client.post(URL, json=[1, 2], headers=auth(patient))
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_FAILED"


def test_patient_cannot_write_for_another_patient(client, db, patient):
    other = uuid.uuid4()
    r = post(client, patient, {"metric_type": "heart_rate", "value": 70, "user_id": str(other)})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    with db.session("service_role", {"role": "service_role"}) as conn:
        n = conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id = %s", (other,)).fetchone()["n"]
    assert n == 0


def test_patient_cannot_read_another_patient(client, patient):
    other = uuid.uuid4()
    assert post(client, other, {"metric_type": "heart_rate", "value": 97}).status_code == 201
    mine = client.get(URL, headers=auth(patient), params={"user_id": str(other)}).json()["data"]
    assert mine == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert all(i["user_id"] == str(patient) for i in client.get(URL, headers=auth(patient)).json()["data"]["items"])


def test_doctor_reads_only_their_patients_and_admin_reads_all(client, db):
    doctor, mine, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for p in (mine, other):
        assert post(client, p, {"metric_type": "weight", "value": 80}).status_code == 201
    seed_doctor(db, doctor, [mine])
    seen = {i["user_id"] for i in client.get(URL, headers=auth(doctor, "doctor")).json()["data"]["items"]}
    assert str(mine) in seen and str(other) not in seen
    assert {(a["action"], a["subject_id"]) for a in audit_rows(db, doctor)} >= {("read", mine)}
    # Issue 10: an admin reads the patients registered at their clinic (an admin claim alone reads nobody).
    clinic = tenancy_seed.clinic(db)
    tenancy_seed.register(db, clinic, other)
    admin = tenancy_seed.staff(db, clinic, "admin")
    admin_seen = client.get(URL, headers=auth(admin, "admin"), params={"user_id": str(other)}).json()
    assert admin_seen["data"]["total"] == 1
    bare = client.get(URL, headers=auth(uuid.uuid4(), "admin"), params={"user_id": str(other)}).json()
    assert bare["data"]["total"] == 0


def test_paging_and_filters(client, patient):
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for i in range(5):
        at = (base + dt.timedelta(days=i)).isoformat()
        r = post(client, patient, {"metric_type": "heart_rate", "value": 60 + i, "recorded_at": at})
        assert r.status_code == 201
    r = post(client, patient, {"metric_type": "steps", "value": 1000, "recorded_at": base.isoformat()})
    assert r.status_code == 201
    hdr = auth(patient)
    page = client.get(URL, headers=hdr, params={"metric_type": "heart_rate", "limit": 2, "offset": 1}).json()["data"]
    assert page["total"] == 5 and [i["value"] for i in page["items"]] == [63, 62]  # newest first
    window = client.get(URL, headers=hdr, params={"since": (base + dt.timedelta(days=1)).isoformat(),
                                                   "until": (base + dt.timedelta(days=3)).isoformat()}).json()["data"]
    assert sorted(i["value"] for i in window["items"]) == [61, 62]
    too_big = client.get(URL, headers=hdr, params={"limit": 10_000})
    assert too_big.status_code == 422 and too_big.json()["error"]["field"] == "limit"
    bad_date = client.get(URL, headers=hdr, params={"since": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["error"]["field"] == "since"


def test_resending_the_same_id_is_a_409_not_a_second_row(client, patient):
    body = {"id": str(uuid.uuid4()), "metric_type": "heart_rate", "value": 70}
    assert post(client, patient, body).status_code == 201
    again = post(client, patient, body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "DUPLICATE"
    assert client.get(URL, headers=auth(patient)).json()["data"]["total"] == 1


def test_a_clinic_nurse_may_record_for_a_registered_patient_and_nobody_else_may(client, db, patient):
    """Issue 10: recording for another patient takes a registration at the recorder's clinic, not an admin claim."""
    clinic = tenancy_seed.clinic(db)
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    body = {"metric_type": "weight", "value": 70, "user_id": str(patient)}
    assert post(client, nurse, body, role="nurse").status_code == 403  # not registered yet
    assert post(client, uuid.uuid4(), body, role="admin").status_code == 403  # a bare admin claim
    tenancy_seed.register(db, clinic, patient)
    r = post(client, nurse, body, role="nurse")
    assert r.status_code == 201 and r.json()["data"]["user_id"] == str(patient)
    assert client.get(URL, headers=auth(patient)).json()["data"]["total"] == 1
