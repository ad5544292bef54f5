"""Claim codes end to end in one process, on a real uvicorn and Postgres: a kiosk files the digest of the code it
showed, the patient's phone (a new sign-in) redeems it, becomes the patient and pulls the record; a code works
once, unknown / used / expired codes answer alike, attempts are limited, and only a fresh patient sign-in links."""
from __future__ import annotations

import datetime as dt
import secrets
import uuid

import httpx
import jwt
import pytest

from edge import claims, patients
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from edge.token_provider import token_source
from protocol.claims import code_digest
from sync_server import testing
from sync_server.app import create_app
from sync_server.auth_service import AuthSettings
from tests.auth.conftest import PASSWORD, add_user, supabase_client
from tests.server import tenancy_seed

OPTIONS = SyncOptions(attempts=2, backoff_s=0.01)


def _store(tmp_path, name: str) -> Store:
    return Store.open(tmp_path / f"{name}.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)


@pytest.fixture
def kiosk(tmp_path, db, live_url):
    """A clinic's kiosk, enrolled and synced by its nurse, with one registered patient and a reading of theirs;
    yields (store, patient id, claim code, clinic id)."""
    clinic = tenancy_seed.clinic(db)
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    store = _store(tmp_path, "kiosk")
    store.set_meta("clinic_id", str(clinic))
    store.set_meta(patients.SESSION_USER_META, str(nurse))  # signed in (the token below is the nurse's)
    with SyncClient(store, testing.token(nurse, "nurse"), server_url=live_url, options=OPTIONS) as client:
        client.enroll(live_url)
        reg = patients.register(store, name="Ada Lovelace", dob=dt.date(1980, 12, 10), sex="female")
        store.health_metrics.add({"user_id": reg["id"], "metric_type": "heart_rate", "value": 71})
        sealed = store.query("SELECT server_digest FROM claim_codes")[0][0]
        assert code_digest(reg["claim_code"]).encode() not in sealed  # waits sealed, never in clear
        result = client.run()
    assert result.claims == {"filed": 1, "waiting": 0, "reason": None} and result.rejected == 0
    assert store.query("SELECT server_digest FROM claim_codes")[0][0] is None  # erased once the server has it
    yield store, uuid.UUID(reg["id"]), reg["claim_code"], clinic
    store.close()


def _claim(live_url, token: str, code: str) -> httpx.Response:
    return httpx.post(f"{live_url}/v1/patients/claim", json={"code": code},
                      headers={"Authorization": f"Bearer {token}"})


def test_the_phone_claims_the_record_and_pulls_it(kiosk, tmp_path, db, live_url):
    _, patient, code, _ = kiosk
    fresh, email = add_user(db)  # the patient's new account, made before the claim
    phone = _store(tmp_path, "phone")
    phone.users.add({"id": uuid.uuid4()})  # what `edge init` leaves: an empty primary profile
    phone.set_meta("user_id", str(phone.users.list()[0].id))
    with supabase_client(live_url) as sb:
        session = sb.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    from edge import auth_session
    from edge.auth_client import Tokens

    auth_session.save_sign_in(phone, Tokens(session.access_token, session.refresh_token, session.expires_at,
                                            session.expires_in, session.user.model_dump(mode="json")), live_url)
    with SyncClient(phone, token_source(phone), server_url=live_url, options=OPTIONS) as client:
        out = claims.redeem(phone, code.lower(), client.call, live_url)  # typed in lower case: still the code
        assert out["patient_id"] == str(patient) and phone.meta("user_id") == str(patient)
        client.enroll(live_url)
        client.run()
    assert [m.value for m in phone.health_metrics.list()] == [71]
    assert phone.users.get(patient).full_name == "Ada Lovelace"
    assert {str(u.id) for u in phone.users.list()} == {str(patient)}  # the empty profile of `init` is gone
    with db.session("service_role", {"role": "service_role"}) as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM auth.users WHERE email = %s", (email,)).fetchall()]
        assert ids == [patient] and conn.execute("SELECT 1 FROM auth.users WHERE id = %s", (fresh,)).fetchone() is None
    with supabase_client(live_url) as sb:  # their password now signs in the patient
        again = sb.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    assert jwt.decode(again.access_token, options={"verify_signature": False})["sub"] == str(patient)
    used = _claim(live_url, again.access_token, code)
    assert used.status_code == 404 and used.json()["error"]["code"] == "NOT_FOUND"
    phone.close()


def test_unknown_used_and_expired_codes_answer_alike(kiosk, db, live_url):
    _, patient, code, _ = kiosk
    answers = [_claim(live_url, testing.token(add_user(db)[0]), "ZZZZZ-ZZZZZ")]
    with db.admin() as conn:
        conn.execute("UPDATE patient_claims SET expires_at = now() - interval '1 second' WHERE patient_id = %s",
                     (patient,))
    answers.append(_claim(live_url, testing.token(add_user(db)[0]), code))
    with db.admin() as conn:
        conn.execute("UPDATE patient_claims SET expires_at = now() + interval '1 day', used_at = now() "
                     "WHERE patient_id = %s", (patient,))
    answers.append(_claim(live_url, testing.token(add_user(db)[0]), code))
    assert {a.status_code for a in answers} == {404}
    assert len({(a.json()["error"]["code"], a.json()["error"]["message"]) for a in answers}) == 1


def test_only_a_fresh_patient_sign_in_links_and_a_refusal_keeps_the_code(kiosk, db, live_url, tmp_path):
    _, patient, code, clinic = kiosk
    nurse = tenancy_seed.staff(db, clinic, "nurse", add_user(db)[0])
    staff_answer = _claim(live_url, testing.token(nurse, "nurse"), code)
    assert staff_answer.status_code == 403
    holder = add_user(db)[0]
    with db.admin() as conn:  # a sign-in that already has its own records
        conn.execute("INSERT INTO users (id, full_name, hlc) VALUES (%s, 'Someone', 'seed')", (holder,))
    held = _claim(live_url, testing.token(holder), code)
    assert held.status_code == 403 and "new patient sign-in" in held.json()["error"]["message"]
    fresh = _claim(live_url, testing.token(add_user(db)[0]), code)  # the code was not used up by the refusals
    assert fresh.status_code == 200 and fresh.json()["data"]["session"]["user"]["id"] == str(patient)


def test_claims_are_filed_only_by_the_clinic_and_read_by_nobody(kiosk, db, live_url):
    _, patient, _, clinic = kiosk
    other = tenancy_seed.clinic(db)
    stranger = tenancy_seed.staff(db, other, "nurse")
    body = {"patient_id": str(patient), "clinic_id": str(other), "code_digest": "ab" * 32,
            "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()}
    refused = httpx.post(f"{live_url}/v1/patients/claims", json=body, headers=testing.auth(stranger, "nurse"))
    assert refused.status_code == 403  # their clinic, but the patient is not registered there
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    with db.session("authenticated", {"sub": str(nurse), "role": "authenticated",
                                      "app_metadata": {"role": "nurse"}}) as conn:
        with pytest.raises(Exception, match="(?i)permission denied|forbidden"):
            conn.execute("SELECT * FROM patient_claims").fetchall()


def test_claim_attempts_are_rate_limited(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(testing.settings_for(pg_url, data_dir=tmp_path), auth=AuthSettings(claim_attempts=3))
    try:
        with TestClient(app) as http:
            headers = testing.auth(uuid.uuid4())
            codes = [http.post("/v1/patients/claim", json={"code": "AAAAA-AAAAA"}, headers=headers).status_code
                     for _ in range(4)]
            assert codes == [404, 404, 404, 429]
    finally:
        app.state.db.close()


def test_the_email_path_a_sign_in_made_with_the_registered_email_is_the_patient(kiosk, db, pg_url, tmp_path,
                                                                                 live_url):
    import json

    from typer.testing import CliRunner

    from healthsync_cli import app

    store, _, _, _ = kiosk
    email = f"ada.{secrets.token_hex(4)}@mail.example"
    with SyncClient(store, testing.token(uuid.UUID(store.meta(patients.SESSION_USER_META)), "nurse"),
                    server_url=live_url, options=OPTIONS) as client:
        reg = patients.register(store, name="Ada Byron", dob=dt.date(1990, 1, 2), sex="female", email=email.upper())
        assert client.run().rejected == 0
    added = CliRunner().invoke(app, ["server", "user", "add", "--email", email, "--password-stdin", "--json"],
                               input=PASSWORD + "\n", env={"DATABASE_URL": pg_url})
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"id": reg["id"], "email": email, "linked_patient": True}
    phone = _store(tmp_path, "phone")
    phone.users.add({"id": uuid.uuid4()})
    phone.set_meta("user_id", str(phone.users.list()[0].id))
    assert claims.adopt_signed_in(phone, reg["id"])["id"] == reg["id"] and phone.meta("user_id") == reg["id"]
    phone.close()
    stranger = CliRunner().invoke(app, ["server", "user", "add", "--email", email.replace("ada", "bea"),
                                        "--password-stdin", "--json"], input=PASSWORD + "\n",
                                  env={"DATABASE_URL": pg_url})
    assert json.loads(stranger.stdout)["linked_patient"] is False  # another email links nothing
    taken = _claim(live_url, testing.token(add_user(db)[0]), reg["claim_code"])
    assert taken.status_code == 403  # the record already has its sign-in: the code cannot hand it to another
