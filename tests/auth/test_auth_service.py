"""The embedded Supabase Auth service, driven by the real `supabase` client over HTTP to a real uvicorn."""
from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from supabase_auth.errors import AuthApiError

from sync_server.testing import TEST_JWT_SECRET
from tests.auth.conftest import PASSWORD, add_user, supabase_client


def test_sign_in_returns_a_supabase_session_with_the_contract_claims(live_url, db):
    clinic = uuid.uuid4()
    uid, email = add_user(db, role="nurse", clinic=clinic, name="Nora Nurse")
    with supabase_client(live_url) as sb:
        res = sb.auth.sign_in_with_password({"email": email.upper(), "password": PASSWORD})
    s = res.session
    assert s.token_type == "bearer" and s.expires_in == 2 and abs(s.expires_at - time.time() - 2) <= 2
    assert res.user.id == str(uid) and res.user.email == email and res.user.aud == "authenticated"
    claims = jwt.decode(s.access_token, TEST_JWT_SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["sub"] == str(uid) and claims["role"] == "authenticated" and claims["email"] == email
    assert claims["app_metadata"]["role"] == "nurse" and claims["app_metadata"]["clinic_id"] == str(clinic)
    assert claims["user_metadata"] == {"full_name": "Nora Nurse"}
    assert claims["exp"] - claims["iat"] == 2 and uuid.UUID(claims["session_id"])
    # The sync server accepts what the auth service signs.
    r = httpx.get(f"{live_url}/v1/sync/server-key", headers={"Authorization": f"Bearer {s.access_token}"})
    assert r.status_code == 200


@pytest.mark.parametrize("which", ["password", "email"])
def test_wrong_credentials_raise_the_clients_invalid_credentials_error(live_url, user, which):
    uid, email = user
    creds = {"email": email, "password": "not-" + PASSWORD} if which == "password" else \
        {"email": "nobody-" + email, "password": PASSWORD}
    with supabase_client(live_url) as sb, pytest.raises(AuthApiError) as err:
        sb.auth.sign_in_with_password(creds)
    assert err.value.status == 400 and err.value.code == "invalid_credentials"
    assert err.value.message == "Invalid login credentials"


def test_legacy_clients_get_the_older_error_shape(live_url, user):
    r = httpx.post(f"{live_url}/auth/v1/token?grant_type=password", json={"email": user[1], "password": "x"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}


def test_refresh_rotates_and_a_reused_token_ends_the_session(live_url, user):
    with supabase_client(live_url) as sb:
        _rotation(sb.auth, user)


def _rotation(auth, user):
    first = auth.sign_in_with_password({"email": user[1], "password": PASSWORD}).session
    second = auth.refresh_session(first.refresh_token).session
    assert second.refresh_token != first.refresh_token and second.user.id == str(user[0])
    # Within the reuse interval (1 s here) the used token answers the same child, as Supabase does.
    again = auth.refresh_session(first.refresh_token).session
    assert again.refresh_token == second.refresh_token
    time.sleep(1.5)
    with pytest.raises(AuthApiError) as err:
        auth.refresh_session(first.refresh_token)
    assert err.value.code == "refresh_token_already_used"
    # Reuse detection revoked the whole session: its current token is refused too.
    with pytest.raises(AuthApiError) as err:
        auth.refresh_session(second.refresh_token)
    assert err.value.code == "refresh_token_not_found"


def test_unknown_refresh_token_is_refused(live_url):
    with supabase_client(live_url) as sb, pytest.raises(AuthApiError) as err:
        sb.auth.refresh_session("made-up-token")
    assert err.value.status == 400 and err.value.code == "refresh_token_not_found"


def test_get_user_and_logout_revokes_the_sessions_refresh_tokens(live_url, user):
    with supabase_client(live_url) as sb, supabase_client(live_url) as sb2:
        _logout(sb.auth, sb2.auth, user)


def _logout(auth, auth2, user):
    s = auth.sign_in_with_password({"email": user[1], "password": PASSWORD}).session
    assert auth.get_user(s.access_token).user.id == str(user[0])
    other = auth2.sign_in_with_password({"email": user[1], "password": PASSWORD}).session
    auth.admin.sign_out(s.access_token, "local")
    with pytest.raises(AuthApiError) as err:
        auth.refresh_session(s.refresh_token)
    assert err.value.code == "refresh_token_not_found"
    with pytest.raises(AuthApiError) as err:
        auth.get_user(s.access_token)
    assert err.value.code == "session_not_found"
    # scope=local leaves the user's other session alone; global ends it.
    refreshed = auth.refresh_session(other.refresh_token).session
    auth.admin.sign_out(refreshed.access_token, "global")
    with pytest.raises(AuthApiError):
        auth.refresh_session(refreshed.refresh_token)


def test_expired_access_token_is_refused_by_user(live_url, user):
    with supabase_client(live_url) as sb:
        s = sb.auth.sign_in_with_password({"email": user[1], "password": PASSWORD}).session
    time.sleep(3.2)
    r = httpx.get(f"{live_url}/auth/v1/user", headers={"Authorization": f"Bearer {s.access_token}"})
    assert r.status_code == 403 and r.json()["code"] == 403 and r.json()["error_code"] == "bad_jwt"


def test_sign_in_attempts_are_rate_limited(pg_url, db, tmp_path):
    from fastapi.testclient import TestClient

    from sync_server import testing
    from sync_server.app import create_app
    from sync_server.auth_service import AuthSettings

    app = create_app(testing.settings_for(pg_url, data_dir=tmp_path),
                     auth=AuthSettings(signin_per_ip=100, signin_per_email=3, rate_window_s=60))
    _, email = add_user(db)
    with TestClient(app) as c:
        codes = [c.post("/auth/v1/token?grant_type=password", json={"email": email, "password": "wrong"})
                 for _ in range(4)]
        ok = c.post("/auth/v1/token?grant_type=password", json={"email": email, "password": PASSWORD})
    assert [r.status_code for r in codes] == [400, 400, 400, 429]
    assert codes[3].json()["error_code"] == "over_request_rate_limit" and int(codes[3].headers["Retry-After"]) >= 1
    assert ok.status_code == 429  # even the right password waits out the window: guessing gains nothing
    app.state.db.close()


def test_embedded_service_is_off_when_supabase_url_is_set(pg_url, tmp_path, caplog, monkeypatch):
    import logging

    from fastapi.testclient import TestClient

    from sync_server import testing
    from sync_server.app import create_app

    def app_and_log(**env):
        for k, v in env.items():
            monkeypatch.setenv(k, v) if v else monkeypatch.delenv(k, raising=False)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sync_server"):
            app = create_app(testing.settings_for(pg_url, data_dir=tmp_path))
        return app, [r.getMessage() for r in caplog.records]

    app, said = app_and_log(SUPABASE_URL="https://project.supabase.co")
    assert any("embedded auth service off: SUPABASE_URL is set" in m for m in said)
    with TestClient(app) as c:
        r = c.post("/auth/v1/token?grant_type=password", json={"email": "a@b.example", "password": "x"})
    assert r.status_code == 404
    app.state.db.close()
    app, said = app_and_log(SUPABASE_URL="")
    assert any("embedded development auth service on at /auth/v1" in m for m in said)
    with TestClient(app) as c:
        r = c.post("/auth/v1/token?grant_type=password", json={"email": "a@b.example", "password": "x"})
    assert r.status_code == 400 and r.json()["error_code"] == "invalid_credentials"
    app.state.db.close()


def test_settings_read_supabase_url_from_the_environment():
    from sync_server.auth_service import AuthSettings

    assert AuthSettings.from_env({"SUPABASE_URL": "https://p.supabase.co"}).supabase_url == "https://p.supabase.co"
    assert AuthSettings.from_env({}).supabase_url is None
    assert AuthSettings.from_env({"HEALTHSYNC_AUTH_ACCESS_TTL_S": "3"}).access_ttl_s == 3
    assert AuthSettings.from_env({"HEALTHSYNC_AUTH_REUSE_INTERVAL_S": "0"}).reuse_interval_s == 0
    from protocol.errors import InputError

    with pytest.raises(InputError):
        AuthSettings.from_env({"HEALTHSYNC_AUTH_REUSE_INTERVAL_S": "soon"})


def test_auth_tables_are_closed_to_api_roles(db, user):
    from protocol.errors import ForbiddenError

    with pytest.raises(ForbiddenError), db.session("authenticated", {"sub": str(user[0]), "role": "authenticated"}) \
            as conn:
        conn.execute("SELECT count(*) FROM auth.users").fetchone()
    with db.session("service_role", {"role": "service_role"}) as conn:
        stored = conn.execute("SELECT encrypted_password FROM auth.users WHERE id=%s", (user[0],)).fetchone()
    assert stored["encrypted_password"].startswith("$argon2id$") and PASSWORD not in stored["encrypted_password"]


def test_racing_refreshes_of_one_token_converge_on_one_child(live_url, user):
    """Two requests refreshing the same token at once (two tabs, a retried request) both get the same child."""
    from concurrent.futures import ThreadPoolExecutor

    with supabase_client(live_url) as a, supabase_client(live_url) as b:
        first = a.auth.sign_in_with_password({"email": user[1], "password": PASSWORD}).session
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda c: c.auth.refresh_session(first.refresh_token).session.refresh_token,
                                    [a, b]))
    assert results[0] == results[1] != first.refresh_token
