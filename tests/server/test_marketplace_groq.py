"""Groq refines a request's specialty only with GROQ_API_KEY and the patient's LLM consent: the real groq client
against a stand-in speaking Groq's chat-completions JSON over HTTP; JSON-schema request, timeout, fallback."""
from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.events.runtime import RealtimeSettings
from sync_server.testing import auth
from tests.server.groq_double import GroqDouble, completion, serve
from tests.server.marketplace_world import add_symptom, seed

ANSWER = {"specialty": "neurology", "urgency": "urgent", "rationale": "sudden severe headache"}


@pytest.fixture
def groq_app(pg_url):
    app = create_app(testing.settings_for(pg_url, groq_api_key="gsk_test_not_a_real_key"))
    app.state.realtime_settings = RealtimeSettings(enabled=False)
    with TestClient(app) as c:
        yield c
    app.state.db.close()


def _consent(db, patient, granted: bool) -> None:
    with db.admin() as conn:
        conn.execute("INSERT INTO consents (id, user_id, kind, granted, text_version, recorded_by, recorded_at, hlc) "
                     "VALUES (%s, %s, 'llm', %s, 'v1', %s, now(), 'seed')", (uuid.uuid4(), patient, granted, patient))


def _open(c, patient, **body):
    r = c.post("/api/v1/appointments", json=body, headers=auth(patient))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_with_consent_groq_refines_the_specialty(groq_app, db, monkeypatch):
    world = seed(db, specialty="neurology", n_doctors=1, n_patients=1)
    patient = world.patients[0]
    _consent(db, patient, True)
    double = GroqDouble(lambda body: (200, completion(json.dumps(ANSWER)), 0))
    with serve(double) as url:
        monkeypatch.setenv("GROQ_BASE_URL", url)
        appt = _open(groq_app, patient, description="the worst headache of my life, since this morning")
    (req,) = double.requests
    assert req["path"] == "/openai/v1/chat/completions"
    assert double.headers[0]["Authorization"] == "Bearer gsk_test_not_a_real_key"
    fmt = req["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert set(fmt["json_schema"]["schema"]["required"]) == set(ANSWER)
    sent = json.dumps(req["body"])
    assert "worst headache" in sent and str(patient) not in sent  # the patient's words, no identifiers
    assert appt["specialty"] == "neurology" and appt["urgency"] == "urgent"
    assert appt["matching"]["llm"]["status"] == "ok"
    assert appt["matched_doctor_ids"] == [str(world.doctors["d0"]["id"])]


def test_without_consent_or_on_failure_the_rules_stand(groq_app, db, monkeypatch):
    world = seed(db, n_doctors=0, n_patients=2)
    p_no, p_yes = world.patients
    _consent(db, p_yes, True)
    _consent(db, p_no, True)
    _consent(db, p_no, False)  # the latest record wins: withdrawn
    failures = iter([(500, {"error": {"message": "boom", "type": "internal_server_error"}}, 0),
                     (200, completion("not json"), 0),
                     (200, completion(json.dumps({"specialty": "x"})), 0),  # fails the schema
                     (200, completion(json.dumps(ANSWER)), 1.0)])  # slower than the timeout
    double = GroqDouble(lambda body: next(failures))
    monkeypatch.setenv("HEALTHSYNC_GROQ_TIMEOUT_S", "0.3")
    with serve(double) as url:
        monkeypatch.setenv("GROQ_BASE_URL", url)
        appt = _open(groq_app, p_no, description="a headache")
        assert double.requests == [] and appt["matching"]["llm"]["reason"] == "no llm consent from the patient"
        for _ in range(4):
            appt = _open(groq_app, p_yes, description="a headache")
            assert appt["matching"]["llm"]["status"] == "fallback"
            assert appt["specialty"] == "general practice" and appt["urgency"] == "soon"
    assert len(double.requests) == 4


def test_the_llm_never_lowers_an_emergency(groq_app, db, monkeypatch):
    world = seed(db, n_doctors=0, n_patients=1)
    patient = world.patients[0]
    _consent(db, patient, True)
    sid = add_symptom(db, patient, {"urgency": "emergency", "specialty": "emergency medicine",
                                    "red_flags": [{"id": "stroke_fast", "title": "Stroke signs"}]})
    calm = {"specialty": "dermatology", "urgency": "self_care", "rationale": "probably nothing"}
    double = GroqDouble(lambda body: (200, completion(json.dumps(calm)), 0))
    with serve(double) as url:
        monkeypatch.setenv("GROQ_BASE_URL", url)
        appt = _open(groq_app, patient, symptom_id=str(sid))
    assert appt["urgency"] == "emergency" and appt["specialty"] == "emergency medicine"
    assert appt["matching"]["llm"]["status"] == "ok"
