"""`healthsync server user add` and `server token --role … --clinic`, and what the service writes to its logs."""
from __future__ import annotations

import json
import logging
import uuid

import jwt
import pytest
from typer.testing import CliRunner

from healthsync_cli import app
from sync_server import testing
from tests.auth.conftest import PASSWORD, supabase_client

runner = CliRunner()


def _add(pg_url, email, password, *extra):
    return runner.invoke(app, ["server", "user", "add", "--email", email, "--password-stdin", *extra],
                         env={"DATABASE_URL": pg_url}, input=password + "\n")


def test_user_add_prints_the_id_and_the_user_can_sign_in(pg_url, live_url):
    email = f"Nurse.{uuid.uuid4().hex[:8]}@Clinic.example"
    r = _add(pg_url, email, PASSWORD, "--name", "Nadia Nurse", "--json")
    assert r.exit_code == 0, r.output
    uid = json.loads(r.stdout)["id"]
    assert uuid.UUID(uid) and json.loads(r.stdout)["email"] == email.lower()
    with supabase_client(live_url) as sb:
        res = sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert res.user.id == uid and res.user.user_metadata == {"full_name": "Nadia Nurse"}
    assert res.user.app_metadata["provider"] == "email"
    plain = _add(pg_url, f"other.{uuid.uuid4().hex[:8]}@clinic.example", PASSWORD)
    assert plain.exit_code == 0 and uuid.UUID(plain.stdout.strip())  # without --json: just the id


def test_user_add_refuses_a_taken_email(pg_url):
    email = f"dup.{uuid.uuid4().hex[:8]}@clinic.example"
    assert _add(pg_url, email, PASSWORD).exit_code == 0
    r = _add(pg_url, email.upper(), PASSWORD)
    assert r.exit_code == 1 and "[DUPLICATE]" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("password", ["short1!", "password123", "Password1234", "qwertyuiop", "letmein12345",
                                      "1q2w3e4r5t6y", "nadianadianadia", "OWN-EMAIL"])
def test_user_add_refuses_weak_passwords(pg_url, password):
    email = f"nadia.nurse.{uuid.uuid4().hex[:4]}@clinic.example"
    password = email.partition("@")[0] if password == "OWN-EMAIL" else password  # the user's own address
    r = _add(pg_url, email, password, "--name", "Nadia Nurse")
    assert r.exit_code == 1 and "[VALIDATION_FAILED]" in r.output and "password" in r.output


def test_user_add_prompts_hidden_with_confirmation(pg_url):
    email = f"prompt.{uuid.uuid4().hex[:8]}@clinic.example"
    r = runner.invoke(app, ["server", "user", "add", "--email", email], env={"DATABASE_URL": pg_url},
                      input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output and "do not match" in r.output.lower()


def test_bad_email_is_a_clean_error(pg_url):
    r = _add(pg_url, "not-an-email", PASSWORD)
    assert r.exit_code == 1 and "[VALIDATION_FAILED] that is not an email address" in r.output


def test_token_takes_the_new_roles_and_the_clinic():
    user, clinic = uuid.uuid4(), uuid.uuid4()
    r = runner.invoke(app, ["server", "token", "--user", str(user), "--role", "nurse", "--clinic", str(clinic),
                            "--json"], env={"SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET})
    assert r.exit_code == 0, r.output
    claims = jwt.decode(json.loads(r.stdout)["token"], testing.TEST_JWT_SECRET, algorithms=["HS256"],
                        audience="authenticated")
    assert claims["app_metadata"]["role"] == "nurse" and claims["app_metadata"]["clinic_id"] == str(clinic)
    assert claims["role"] == "authenticated" and uuid.UUID(claims["session_id"])
    bad = runner.invoke(app, ["server", "token", "--user", str(user), "--clinic", "nope"],
                        env={"SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET})
    assert bad.exit_code == 1 and "--clinic must be a UUID" in bad.output


def test_sign_in_logs_hold_no_email_password_or_token(live_url, user, caplog):
    uid, email = user
    with caplog.at_level(logging.DEBUG), supabase_client(live_url) as sb:
        session = sb.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
        sb.auth.refresh_session(session.refresh_token)
        with pytest.raises(Exception):  # noqa: B017 - the refusal's shape is tested elsewhere
            sb.auth.sign_in_with_password({"email": email, "password": "wrong-" + PASSWORD})
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/auth/v1/token" in text  # the access lines were captured
    for secret in (email, PASSWORD, session.refresh_token, session.access_token):
        assert secret not in text
