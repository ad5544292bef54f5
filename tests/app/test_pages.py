"""The kiosk app's pages through the ASGI app (no browser): the session cookie, the idle lock, sign out, roles,
the Vitals screen's validation and corrections, and that no PHI goes into a URL or the browser's cache."""
from __future__ import annotations

import re
import time
import uuid

from edge import auth_session
from edge.app import session as sessions
from tests.app.conftest import PIN, seal_sign_in, sign_in_as


def register(client, name="Ada Okafor", dob="1961-04-02", mrn="K-1001") -> str:
    r = client.post("/patients/register", data={"full_name": name, "date_of_birth": dob, "sex": "female",
                                                "mrn": mrn})
    assert r.status_code == 200 and "claim-code" in r.text
    return re.search(r'name="patient_id" value="([0-9a-f-]{36})"', r.text).group(1)


def test_signed_out_pages_go_to_sign_in(client):
    for path in ("/", "/patients", "/vitals", "/twin", "/sync", "/consent"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", path


def test_the_cookie_is_httponly_strict_and_names_no_patient_data(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    register(client)
    r = client.get("/vitals")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Ada" not in cookie and "Okafor" not in cookie and "1961" not in cookie
    assert r.headers["cache-control"] == "no-store"


def test_a_forged_or_foreign_cookie_is_no_session(client, kiosk_store):
    uid = seal_sign_in(kiosk_store, "nurse")
    good = sessions.encode(kiosk_store, sessions.Session(uid, "nurse", seen=time.time()))
    body, mac = good.split(".")
    forged = sessions.encode(kiosk_store, sessions.Session(uid, "admin", seen=time.time())).split(".")[0] + "." + mac
    client.cookies.set(sessions.COOKIE, forged)
    assert client.get("/patients", follow_redirects=False).headers["location"] == "/sign-in"
    client.cookies.set(sessions.COOKIE, good)
    assert client.get("/patients", follow_redirects=False).status_code == 200


def test_an_idle_session_is_locked_and_a_pin_unlocks_it(client, kiosk_store):
    uid = seal_sign_in(kiosk_store, "nurse", pin=PIN)
    stale = sessions.Session(uid, "nurse", seen=time.time() - 61)  # the app's idle limit is 60 s here
    client.cookies.set(sessions.COOKIE, sessions.encode(kiosk_store, stale))
    r = client.get("/vitals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/lock"
    assert "Screen locked" in client.get("/lock").text
    wrong = client.post("/unlock", data={"pin": "9513"}, follow_redirects=False)
    assert wrong.status_code == 400 and "wrong PIN" in wrong.text
    ok = client.post("/unlock", data={"pin": PIN}, follow_redirects=False)
    assert ok.status_code == 303
    assert client.get("/patients", follow_redirects=False).status_code == 200


def test_a_locked_session_reaches_no_api_data_either(client, kiosk_store):
    uid = seal_sign_in(kiosk_store, "nurse")
    stale = sessions.Session(uid, "nurse", patient_id=str(uuid.uuid4()), seen=time.time() - 61)
    client.cookies.set(sessions.COOKIE, sessions.encode(kiosk_store, stale))
    r = client.post("/v1/scan/confirm", json={"labs": [], "medications": []})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AUTH_FAILED"


def test_sign_out_erases_the_session_so_the_cookie_is_dead(client, kiosk_store):
    uid = sign_in_as(client, kiosk_store)
    cookie = client.cookies.get(sessions.COOKIE)
    r = client.post("/sign-out", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    assert uid not in auth_session.load(kiosk_store)["sessions"]  # erased from the store (offline: not revoked)
    client.cookies.set(sessions.COOKIE, cookie)  # the old cookie, replayed
    assert client.get("/patients", follow_redirects=False).headers["location"] == "/sign-in"


def test_a_patient_sees_their_own_screens_only(client, kiosk_store):
    uid = seal_sign_in(kiosk_store, "patient")
    kiosk_store.users.add({"id": uid, "full_name": "Pat Phone", "role": "patient"})
    record = auth_session.load(kiosk_store)["sessions"][uid]
    client.cookies.set(sessions.COOKIE, sessions.encode(kiosk_store, sessions.from_record(record)))
    page = client.get("/vitals")
    assert page.status_code == 200
    assert 'href="/patients"' not in page.text and 'href="/scan"' not in page.text
    assert client.get("/patients", follow_redirects=False).headers["location"] == "/vitals"
    twin = client.get("/twin?view=clinician")
    assert "Clinician view" not in twin.text  # a patient gets the plain-language view whatever the URL says


def test_staff_without_a_patient_are_asked_to_choose_one(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    r = client.get("/vitals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/patients")


def test_patient_search_is_a_post_and_no_link_carries_patient_data(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    register(client)
    found = client.post("/patients/find", data={"query": "okafor"})
    assert "Ada Okafor" in found.text
    pages = [client.get(p).text for p in ("/patients", "/vitals", "/twin", "/consent", "/sync")]
    for html in [found.text, *pages]:
        for url in re.findall(r'(?:href|action|hx-post|hx-get)="([^"]*)"', html):
            assert "?" not in url or url.startswith("/twin?view=") or url.startswith("/patients?choose"), url
            assert not re.search(r"okafor|ada|1961|k-1001", url, re.I), url
        assert 'method="get"' not in html.lower()


def test_vitals_blood_pressure_units_and_a_correction(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    pid = uuid.UUID(register(client))
    assert "Blood pressure recorded" in client.post("/vitals", data={"metric": "blood_pressure",
                                                                     "value": "120/80", "unit": "mmHg"}).text
    client.post("/vitals", data={"metric": "body_temperature", "value": "100.4", "unit": "F", "notes": "warm"})
    client.post("/vitals", data={"metric": "weight", "value": "154", "unit": "lb"})
    client.post("/vitals", data={"metric": "blood_glucose", "value": "5.5", "unit": "mmol/l"})  # any case
    got = {m.metric_type: m for m in kiosk_store.health_metrics.list(owner=pid)}
    assert (got["systolic_bp"].value, got["diastolic_bp"].value) == (120, 80)
    assert abs(got["body_temperature"].value - 38.0) < 1e-6 and got["body_temperature"].notes == "warm"
    assert abs(got["weight"].value - 154 * 0.45359237) < 1e-6
    assert abs(got["blood_glucose"].value - 5.5 * 18.016) < 1e-6
    page = client.post("/vitals", data={"metric": "weight", "value": "70", "unit": "kg",
                                        "correcting": str(got["weight"].id)})
    assert page.status_code == 200 and "corrected" in page.text
    weights = kiosk_store.health_metrics.list(owner=pid, metric_type="weight")
    assert [w.value for w in weights] == [70] and weights[0].supersedes == got["weight"].id


def test_a_wrong_reading_is_explained_and_its_field_marked(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    register(client)
    r = client.post("/vitals", data={"metric": "heart_rate", "value": "720", "unit": "bpm"})
    assert r.status_code == 422
    assert "Heart rate: 720 bpm is outside the range we accept" in r.text
    assert re.search(r'id="value"[^>]*aria-invalid="true"', r.text)
    one = client.post("/vitals", data={"metric": "blood_pressure", "value": "120", "unit": "mmHg"})
    assert one.status_code == 422 and "e.g. 120/80" in one.text
    words = client.post("/vitals", data={"metric": "blood_pressure", "value": "high/80", "unit": "mmHg"})
    assert words.status_code == 422 and "&#39;high&#39; is not a number" in words.text


def test_delete_is_limited_to_the_patient_being_seen(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    other = uuid.UUID(register(client, "Other Person", "1950-01-01", "K-2"))
    theirs = kiosk_store.health_metrics.add({"user_id": other, "metric_type": "heart_rate", "value": 60})
    register(client, "Ada Okafor", "1961-04-02", "K-3")  # now seeing Ada
    r = client.post("/vitals/delete", data={"metric_id": str(theirs.id)})
    assert "belongs to another patient" in r.text
    assert kiosk_store.health_metrics.get(theirs.id)  # still there


def test_consent_grant_and_withdraw(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    pid = uuid.UUID(register(client))
    client.post("/consent", data={"kind": "audio", "granted": "yes"})
    from edge import consent

    assert consent.current(kiosk_store, pid, "audio").granted
    client.post("/consent", data={"kind": "audio", "granted": "no"})
    assert not consent.current(kiosk_store, pid, "audio").granted
    assert "audio-1" in client.get("/consent").text  # the text version shown


def test_a_corrected_transcript_is_triaged_again_and_supersedes_the_spoken_record(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    pid = uuid.UUID(register(client))
    spoken = kiosk_store.symptoms.add({"user_id": pid, "description": "I have a bad hairache", "severity": 3})
    r = client.post("/voice/correct", data={"symptom_id": str(spoken.id),
                                            "text": "I have crushing chest pain and I am short of breath"})
    assert "Correction saved" in r.text and "emergency" in r.text
    [now] = kiosk_store.symptoms.list(owner=pid)
    assert now.supersedes == spoken.id and now.triage["urgency"] == "emergency"
