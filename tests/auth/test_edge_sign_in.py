"""`edge sign-in` / `sign-out` / PIN unlock, and a kiosk syncing across token lifetimes, on the real server."""
from __future__ import annotations

import json
import secrets
import time
import uuid

import pytest
from typer.testing import CliRunner

from edge import auth_session
from edge.auth_client import SignInRequiredError, SupabaseAuth
from edge.cli import app
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from edge.token_provider import SessionTokens, StaticToken, token_source
from sync_server import testing
from tests.auth.conftest import PASSWORD, add_user


@pytest.fixture
def kiosk(tmp_path, live_url):
    """An edge store on disk and the environment its CLI runs with (key in HEALTHSYNC_KEY, no token)."""
    key = secrets.token_bytes(32)
    path = tmp_path / "edge.db"
    Store.open(path, KeySource(raw_key=key), create=True).close()
    return {"path": path, "key": key, "url": live_url,
            "env": {"HEALTHSYNC_KEY": key.hex(), "HEALTHSYNC_TOKEN": None, "SUPABASE_URL": None}}


def cli(kiosk, *args, stdin: str | None = None):
    return CliRunner().invoke(app, [*args, "--store", str(kiosk["path"])], env=kiosk["env"], input=stdin)


def sign_in(kiosk, email: str, *extra: str, password: str = PASSWORD, pin: str | None = None):
    lines = password + "\n" + (f"{pin}\n" if pin else "")
    return cli(kiosk, "sign-in", "--email", email, "--password-stdin", "--auth-url", kiosk["url"], *extra, "--json",
               stdin=lines)


def open_store(kiosk) -> Store:
    return Store.open(kiosk["path"], KeySource(raw_key=kiosk["key"]))


def test_sign_in_keeps_the_session_sealed_and_sign_out_revokes_it(kiosk, db):
    uid, email = add_user(db, role="nurse")
    r = sign_in(kiosk, email)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["user_id"] == str(uid) and out["role"] == "nurse" and out["method"] == "password"
    with open_store(kiosk) as store:
        record = auth_session.active_session(store)
        assert auth_session.signed_in_user(store) == str(uid)
    raw = b"".join(p.read_bytes() for p in kiosk["path"].parent.glob("edge.db*"))
    for secret in (record["access_token"], record["refresh_token"], email):
        assert secret.encode() not in raw, "the session must only be stored sealed"
    assert record["access_token"].split(".")[1][:20].encode() not in raw

    r = cli(kiosk, "sign-out", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["revoked_on_server"] is True
    with open_store(kiosk) as store:
        assert auth_session.active_session(store) is None
    with SupabaseAuth(kiosk["url"]) as auth, pytest.raises(SignInRequiredError):
        auth.refresh(record["refresh_token"])  # revoked on the server, not only forgotten here


def test_wrong_password_is_one_clean_line(kiosk, user):
    r = sign_in(kiosk, user[1], password="wrong-" + PASSWORD)
    assert r.exit_code == 1  # with --json the error is JSON on stdout (issue 12)
    assert json.loads(r.stdout)["error"] == {"code": "AUTH_FAILED", "message": "wrong email or password",
                                             "hint": "check both; after several tries, wait a minute"}
    assert "Traceback" not in r.output
    with open_store(kiosk) as store:
        assert auth_session.active_session(store) is None


def test_no_auth_url_says_how_to_get_one(kiosk, user):
    r = cli(kiosk, "sign-in", "--email", user[1], "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code == 1 and "no auth server to sign in with" in r.output and "--auth-url" in r.output


def test_pin_unlock_right_wrong_and_locked(kiosk, db):
    (a, email_a), (b, email_b) = add_user(db, role="nurse"), add_user(db, role="doctor")
    assert sign_in(kiosk, email_a, "--set-pin", pin="2580").exit_code == 0
    assert sign_in(kiosk, email_b, "--set-pin", pin="1397").exit_code == 0
    with open_store(kiosk) as store:
        assert auth_session.signed_in_user(store) == str(b)
        pin_hash = auth_session.load(store)["sessions"][str(a)]["pin"]
    assert pin_hash.startswith("$argon2id$") and "2580" not in pin_hash

    r = cli(kiosk, "sign-in", "--pin", "--password-stdin", "--json", stdin="2580\n")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["user_id"] == str(a)  # the nurse is active again, without her password
    for left in range(auth_session.MAX_PIN_ATTEMPTS - 1, 0, -1):
        r = cli(kiosk, "sign-in", "--pin", "--password-stdin", stdin="0000\n")
        assert r.exit_code == 1 and "[AUTH_FAILED] wrong PIN" in r.output and f"({left} attempt" in r.output
    r = cli(kiosk, "sign-in", "--pin", "--password-stdin", stdin="0000\n")
    assert r.exit_code == 1 and "[PIN_LOCKED]" in r.output
    r = cli(kiosk, "sign-in", "--pin", "--password-stdin", stdin="2580\n")  # the right PIN no longer works
    assert r.exit_code == 1 and "[PIN_LOCKED]" in r.output
    with open_store(kiosk) as store:
        assert auth_session.signed_in_user(store) == str(a)  # locking changed who is signed in: nobody new
        assert all(s["pin"] is None for s in auth_session.load(store)["sessions"].values())
    # A password sign-in lifts the lock and sets a new PIN.
    assert sign_in(kiosk, email_b, "--set-pin", pin="4826").exit_code == 0
    r = cli(kiosk, "sign-in", "--pin", "--password-stdin", "--json", stdin="4826\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["user_id"] == str(b)


@pytest.mark.parametrize("pin", ["123", "1234", "9876", "7777", "12a4", "123456789"])
def test_guessable_or_malformed_pins_are_refused_before_sign_in(kiosk, user, pin):
    r = sign_in(kiosk, user[1], "--set-pin", pin=pin)
    assert r.exit_code == 1 and json.loads(r.stdout)["error"]["code"] == "VALIDATION_FAILED"
    with open_store(kiosk) as store:
        assert auth_session.active_session(store) is None


def _metrics_on_server(db, user: uuid.UUID) -> int:
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id = %s", (user,)).fetchone()["n"]


def _refresh_count(db, user: uuid.UUID) -> int:
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute("SELECT count(*) AS n FROM auth.refresh_tokens WHERE user_id = %s AND revoked",
                            (user,)).fetchone()["n"]


def _enrolled_kiosk(kiosk, db):
    """A signed-in device enrolled with the server through its session (a patient's, so the rows are theirs)."""
    uid, email = add_user(db)
    assert sign_in(kiosk, email).exit_code == 0
    store = open_store(kiosk)
    store.set_meta("user_id", str(uid))
    client = SyncClient(store, SessionTokens(store), server_url=kiosk["url"],
                        options=SyncOptions(attempts=2, backoff_s=0.01))
    client.enroll(kiosk["url"])
    return uid, email, store, client


def test_watch_keeps_syncing_across_many_token_lifetimes(kiosk, db):
    uid, _, store, client = _enrolled_kiosk(kiosk, db)
    added, errors = [], []
    started = time.monotonic()

    def each_round(result, error):
        if error is not None:
            errors.append(error)
        m = store.health_metrics.add({"user_id": uid, "metric_type": "heart_rate", "value": 60 + len(added)})
        added.append(m.id)

    try:
        client.watch(interval_s=0.7, max_rounds=12, on_round=each_round)
        client.run()  # the last round's metric
        assert errors == []
        assert time.monotonic() - started > 3 * 2  # the run outlived three 2-second access tokens
        assert _refresh_count(db, uid) >= 3  # and refreshed through the auth service each time
        assert _metrics_on_server(db, uid) == len(added) == 12
        assert store.query("SELECT count(*) FROM outbox")[0][0] == 0
    finally:
        client.close()
        store.close()


def test_revoked_session_says_sign_in_again_once_loses_nothing_and_resumes(kiosk, db):
    uid, email, store, client = _enrolled_kiosk(kiosk, db)
    try:
        with db.session("service_role", {"role": "service_role"}) as conn:  # an admin ends every session
            conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (uid,))
        for i in range(3):
            store.health_metrics.add({"user_id": uid, "metric_type": "heart_rate", "value": 70 + i})
        time.sleep(2.2)  # the access token in hand runs out, so the next request needs a refresh
    finally:
        client.close()
        store.close()
    r = cli(kiosk, "sync", "run", "--watch", "--interval", "0.2", "--max-rounds", "5")
    assert r.exit_code == 0, r.output
    lines = [line for line in r.stderr.splitlines() if "[AUTH_EXPIRED]" in line]
    assert len(lines) == 1 and "sign in again" in lines[0] and "changes stay queued" in lines[0], r.stderr
    with open_store(kiosk) as store:
        assert store.query("SELECT count(*) FROM outbox")[0][0] == 3  # nothing lost, nothing pushed
    assert _metrics_on_server(db, uid) == 0

    assert sign_in(kiosk, email).exit_code == 0
    r = cli(kiosk, "sync", "run", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] == 3 and _metrics_on_server(db, uid) == 3


def test_the_same_watch_loop_resumes_when_someone_signs_in(kiosk, db):
    uid, email, store, client = _enrolled_kiosk(kiosk, db)
    seen = []

    def each_round(result, error):
        seen.append(type(error).__name__ if error else "ok")
        if seen == ["ok"]:
            with db.session("service_role", {"role": "service_role"}) as conn:
                conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (uid,))
            store.health_metrics.add({"user_id": uid, "metric_type": "heart_rate", "value": 80})
            time.sleep(2.2)
        elif seen.count("SignInRequiredError") == 2 and "ok" not in seen[1:]:
            with SupabaseAuth(kiosk["url"]) as auth:  # the nurse signs in again on the kiosk
                auth_session.save_sign_in(store, auth.sign_in(email, PASSWORD), kiosk["url"])

    try:
        client.watch(interval_s=0.1, max_rounds=5, on_round=each_round)
    finally:
        client.close()
        store.close()
    assert seen == ["ok", "SignInRequiredError", "SignInRequiredError", "ok", "ok"]
    assert _metrics_on_server(db, uid) == 1


def test_a_given_token_still_works_and_counts_as_signed_in(kiosk, db, monkeypatch):
    user = uuid.uuid4()
    token = testing.token(user)
    with open_store(kiosk) as store:
        assert isinstance(token_source(store, token), StaticToken)
        monkeypatch.setenv("HEALTHSYNC_TOKEN", token)
        assert isinstance(token_source(store), StaticToken)
        assert auth_session.signed_in_user(store) == str(user)
        monkeypatch.delenv("HEALTHSYNC_TOKEN")
        with pytest.raises(auth_session.NotSignedInError):
            token_source(store)


def test_a_fixed_token_that_expires_still_stops_the_watch(kiosk, db):
    """Only a session a sign-in can renew is waited for; a script's expired token ends the loop with its error."""
    from protocol.errors import AuthError

    user = uuid.uuid4()
    with open_store(kiosk) as store:
        store.set_meta("user_id", str(user))
        with SyncClient(store, testing.token(user), server_url=kiosk["url"]) as enrolling:
            enrolling.enroll(kiosk["url"])
        client = SyncClient(store, StaticToken(testing.token(user, ttl_s=-60)), options=SyncOptions(attempts=1))
        with client, pytest.raises(AuthError):
            client.watch(interval_s=0.1, max_rounds=3)


def test_refresh_is_judged_by_the_servers_clock(kiosk, db):
    """A device whose clock runs behind the server's refreshes by the server's time (the learned offset)."""
    _, email = add_user(db)
    assert sign_in(kiosk, email, "--set-pin", pin="2580").exit_code == 0
    with open_store(kiosk) as store:
        before = auth_session.active_session(store)
        tokens = SessionTokens(store, margin_s=0.5)
        assert tokens.token() == before["access_token"]  # fresh by our clock: no refresh
        store.set_clock_offset(5_000)  # the server's clock is 5 s ahead: this 2-second token is already over
        tokens.token()
        after = auth_session.active_session(store)
    assert after["refresh_token"] != before["refresh_token"] and after["pin"] == before["pin"]


def test_auth_url_defaults_to_supabase_url_else_the_enrolled_server(kiosk, db):
    uid, email, store, client = _enrolled_kiosk(kiosk, db)
    client.close()
    store.close()
    r = cli(kiosk, "sign-in", "--email", email, "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["auth_url"] == kiosk["url"]  # the server the device enrolled with
    # SUPABASE_URL wins over the enrolled server: here it names a port nobody listens on.
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = CliRunner().invoke(app, ["sign-in", "--email", email, "--password-stdin", "--store", str(kiosk["path"])],
                           env={**kiosk["env"], "SUPABASE_URL": dead}, input=PASSWORD + "\n")
    assert r.exit_code == 1 and "[AUTH_UNAVAILABLE]" in r.output and "Traceback" not in r.output


def test_pin_without_any_pin_set_is_not_counted_as_a_guess(kiosk, user):
    assert sign_in(kiosk, user[1]).exit_code == 0
    for _ in range(auth_session.MAX_PIN_ATTEMPTS + 1):
        r = cli(kiosk, "sign-in", "--pin", "--password-stdin", stdin="2580\n")
        assert r.exit_code == 1 and "nobody signed in on this device has set a PIN" in r.output
    with open_store(kiosk) as store:
        assert auth_session.load(store)["pin_failures"] == 0 and not auth_session.load(store)["pin_locked"]
