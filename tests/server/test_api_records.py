"""GET /api/v1/health/{symptoms,therapy-sessions,predictions,medications}: RLS scope, paging, filters, audit."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from sync_server.testing import auth
from tests.server import records_seed, tenancy_seed

ROUTES = {"symptoms": "symptoms", "therapy_sessions": "therapy-sessions", "predictions": "predictions",
          "medications": "medications"}


@pytest.fixture(scope="module")
def world(db):
    """A clinic with a doctor, one registered patient and one patient elsewhere, each with a record of each kind."""
    clinic = tenancy_seed.clinic(db, "Reads clinic")
    doctor = tenancy_seed.staff(db, clinic, "doctor")
    mine, other = uuid.uuid4(), uuid.uuid4()
    tenancy_seed.register(db, clinic, mine)
    ids = {t: {p: records_seed.record(db, t, p) for p in (mine, other)} for t in ROUTES}
    return {"doctor": doctor, "mine": mine, "other": other, "ids": ids}


def get(client, table, who, role, **params):
    return client.get(f"/api/v1/health/{ROUTES[table]}", params=params, headers=auth(who, role))


def audited(db, actor, table):
    with db.admin() as conn:
        return [r["subject_id"] for r in conn.execute(
            "SELECT subject_id FROM audit_log WHERE actor = %s AND table_name = %s AND action = 'read'",
            (actor, table)).fetchall()]


@pytest.mark.parametrize("table", ROUTES)
def test_doctor_reads_their_patients_records_only(client, db, world, table):
    r = get(client, table, world["doctor"], "doctor")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [i["id"] for i in data["items"]] == [str(world["ids"][table][world["mine"]])]
    assert data["total"] == 1
    # Naming the other patient by hand answers nothing, not an error that confirms they exist.
    r = get(client, table, world["doctor"], "doctor", user_id=str(world["other"]))
    assert r.status_code == 200 and r.json()["data"] == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert world["mine"] in audited(db, world["doctor"], table)
    assert world["other"] not in audited(db, world["doctor"], table)


@pytest.mark.parametrize("table", ROUTES)
def test_patient_reads_own_records(client, world, table):
    items = get(client, table, world["other"], "patient").json()["data"]["items"]
    assert [i["id"] for i in items] == [str(world["ids"][table][world["other"]])]


def test_symptom_carries_transcript_and_triage(client, world):
    item = get(client, "symptoms", world["doctor"], "doctor").json()["data"]["items"][0]
    assert item["triage"]["red_flag"] is True and item["voice_analysis"]["uncertain_words"] == ["morning"]


def test_filters_and_paging(client, db, world):
    p = world["mine"]
    old = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    records_seed.record(db, "therapy_sessions", p, at=old, exercise="lunge")
    r = get(client, "therapy_sessions", world["doctor"], "doctor", exercise="lunge")
    assert [i["exercise"] for i in r.json()["data"]["items"]] == ["lunge"]
    r = get(client, "therapy_sessions", world["doctor"], "doctor", until="2025-06-01T00:00:00Z")
    assert [i["started_at"][:10] for i in r.json()["data"]["items"]] == ["2025-01-01"]
    r = get(client, "therapy_sessions", world["doctor"], "doctor", limit=1, offset=1)
    data = r.json()["data"]
    assert data["total"] == 2 and len(data["items"]) == 1 and data["items"][0]["exercise"] == "lunge"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"user_id": "x"},
                                    {"since": "yesterday"}])
def test_bad_query_is_a_422(client, world, params):
    r = get(client, "symptoms", world["doctor"], "doctor", **params)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_FAILED"


def test_anonymous_is_a_401(client):
    assert client.get("/api/v1/health/symptoms").status_code == 401
