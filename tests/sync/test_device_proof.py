"""Every pull names and proves its device (protocol.request_auth); a revoked device is refused on pull too and,
on its next contact, destroys its store key (crypto-shred) when the server's order verifies."""
from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from edge.device_keys import device_keys, pin_server, server_pin
from edge.keys import KeySource
from edge.shred import StoreShreddedError
from edge.store import Store
from edge.sync_client import DeviceRevokedError
from protocol import request_auth
from protocol.changeset import raw_public
from sync_server import testing
from tests.sync.doctor_devices import doctor_device

PULL = "/v1/sync/pull"
QUERY = b"cursor=0&limit=10"


def _pull(http, user, headers=None, query=QUERY):
    resp = http.get(f"{PULL}?{query.decode()}", headers={**testing.auth(user), **(headers or {})})
    return resp.status_code, resp.json()


def _proof(dev, *, key=None, query=QUERY, now_ms=None):
    return request_auth.sign_request(key or device_keys(dev.store).signing, dev.store.device_id, "GET", PULL, query,
                                     now_ms=now_ms)


def _revoke(http, dev):
    user = server_pin(dev.store).user_id
    resp = http.post(f"/v1/devices/{dev.store.device_id}/revoke", headers=testing.auth(user))
    assert resp.status_code == 200


def test_a_signed_pull_from_the_enrolled_device_is_served_and_audited_with_the_device(devices, db):
    user = uuid.uuid4()
    d = devices.new(user)
    d.store.symptoms.add({"user_id": user, "description": "x", "severity": 1,
                          "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    d.run()
    status, body = _pull(devices.http, user, _proof(d))
    assert status == 200 and body["data"]["has_more"] is False and len(body["data"]["changes"]) >= 1
    with db.session("service_role", {"role": "service_role"}) as conn:
        rows = conn.execute("SELECT device_id::text AS d FROM audit_log WHERE actor = %s AND action = 'sync_pull'",
                            (user,)).fetchall()
    assert rows and {r["d"] for r in rows} == {d.store.device_id}


def test_an_unsigned_pull_is_refused(devices):
    """Failed before: a pull with only the user's token was served, whatever device (or none) made it."""
    user = uuid.uuid4()
    devices.new(user)
    status, body = _pull(devices.http, user)
    assert (status, body["error"]["code"]) == (401, "DEVICE_PROOF_MISSING")


def test_forged_tampered_stale_and_foreign_proofs_are_refused(devices):
    user, other = uuid.uuid4(), uuid.uuid4()
    d, theirs = devices.new(user), devices.new(other)
    forged = _proof(d, key=Ed25519PrivateKey.generate())
    assert _pull(devices.http, user, forged)[1]["error"]["code"] == "DEVICE_BAD_SIGNATURE"
    # Signed for cursor=0, sent with another query: the signature covers the query.
    assert _pull(devices.http, user, _proof(d), query=b"cursor=5&limit=10")[1]["error"]["code"] == \
        "DEVICE_BAD_SIGNATURE"
    # A captured request replayed after the freshness window.
    old = _proof(d, now_ms=int(time.time() * 1000) - request_auth.FRESHNESS_MS - 60_000)
    assert _pull(devices.http, user, old)[1]["error"]["code"] == "DEVICE_PROOF_STALE"
    # Another user's device, correctly signed by it, with this user's token.
    status, body = _pull(devices.http, user, _proof(theirs))
    assert (status, body["error"]["code"]) == (403, "DEVICE_UNKNOWN")
    bad_id = {**_proof(d), request_auth.HEADER_DEVICE: "not-a-uuid"}
    assert _pull(devices.http, user, bad_id)[0] == 401


def test_revoked_device_gets_device_revoked_on_pull(devices):
    """Failed before: a revoked device still pulled everything."""
    user = uuid.uuid4()
    d = devices.new(user)
    _revoke(devices.http, d)
    status, body = _pull(devices.http, user, _proof(d))
    assert (status, body["error"]["code"]) == (403, "DEVICE_REVOKED")
    assert set(body["error"]["shred"]) == {"device_id", "issued_at", "mac"}
    # Without a valid signature nobody learns of the order (it is made only for the device itself).
    status, body = _pull(devices.http, user, _proof(d, key=Ed25519PrivateKey.generate()))
    assert body["error"]["code"] == "DEVICE_BAD_SIGNATURE" and "shred" not in body["error"]


def _file_bytes(path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@pytest.mark.parametrize("pending", [False, True], ids=["idle", "with-pending-push"])
def test_revoked_device_destroys_its_store_key_and_the_store_becomes_unreadable(devices, pending):
    """Failed before: the revoked device kept syncing and its store stayed readable."""
    user, key = uuid.uuid4(), KeySource(raw_key=secrets.token_bytes(32))
    d = doctor_device(devices, user, role="patient", key=key)
    d.store.symptoms.add({"user_id": user, "description": "private", "severity": 2,
                          "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    d.store.health_events.add({"user_id": user, "event_type": "psychiatry_referral_note", "data": {}})
    d.run()
    wrapped = d.store.meta("wrapped_key")
    assert wrapped and wrapped in _file_bytes(d.store.path)
    assert b"psychiatry_referral_note" in _file_bytes(d.store.path)  # an index column, in clear
    # As on SQLite builds whose default is off (this one's is on): the shred must turn it on itself.
    d.store.query("PRAGMA secure_delete=OFF")
    _revoke(devices.http, d)
    if pending:  # the push is refused first; the client then asks for (and verifies) the order
        d.store.symptoms.add({"user_id": user, "description": "later", "severity": 1,
                              "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    with pytest.raises(DeviceRevokedError) as err:
        d.run()
    assert err.value.shredded is True and "destroyed" in err.value.message
    assert d.store.symptoms.list() == [] and d.store.health_events.count() == 0  # the rows are gone
    with pytest.raises(StoreShreddedError):  # and the open object has forgotten the key
        d.store.symptoms.add({"user_id": user, "description": "after", "severity": 1,
                              "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    path = d.store.path
    assert wrapped not in _file_bytes(path)  # zeroed in the file, nothing left in the WAL
    assert b"psychiatry_referral_note" not in _file_bytes(path)
    with pytest.raises(StoreShreddedError) as opened:
        Store.open(path, key)  # the right key: nothing left for it to unwrap
    assert opened.value.code == "STORE_SHREDDED" and "revoked" in opened.value.message


def test_a_revocation_order_that_does_not_verify_destroys_nothing(devices):
    """Safety net: an order not made with the pinned server key (a forged answer) leaves the store intact."""
    user = uuid.uuid4()
    d = devices.new(user)
    _revoke(devices.http, d)
    pin = server_pin(d.store)
    pin_server(d.store, pin.url, raw_public(X25519PrivateKey.generate()), pin.user_id)  # not the server's key
    with pytest.raises(DeviceRevokedError) as err:
        d.run()
    assert err.value.shredded is False and "nothing was destroyed" in err.value.message
    assert d.store.meta("wrapped_key") is not None
    assert d.store.symptoms.list() == []  # still readable


def test_a_device_clock_minutes_off_learns_the_servers_time_and_pulls(devices):
    """A pull whose proof is refused as stale learns the server's time from the refusal and succeeds on retry."""
    import time

    user = uuid.uuid4()
    d = devices.new(user)
    d.store.wall_ms = lambda: int(time.time() * 1000) - 10 * 60 * 1000  # the device's clock runs 10 minutes behind
    d.store.set_clock_offset(0)
    d.pull()  # no push first: the pull's own refusal must teach the clock
    assert abs(d.store.wall_ms() + d.store.clock_offset_ms - int(time.time() * 1000)) < 60_000


def test_the_cli_says_clearly_that_the_store_was_shredded(tmp_path, live_url):
    """`sync run` on a revoked device: one line with the code saying the key was destroyed; later commands say the
    store is shredded (no traceback)."""
    import httpx
    from typer.testing import CliRunner

    from edge.sync_cli import app

    user, key = uuid.uuid4(), secrets.token_bytes(32)
    path = tmp_path / "edge.db"
    with Store.open(path, KeySource(raw_key=key), create=True) as store:
        device = store.device_id
    env = {"HEALTHSYNC_KEY": key.hex(), "HEALTHSYNC_TOKEN": testing.token(user)}

    def cli(*args):
        return CliRunner().invoke(app, [*args, "--store", str(path)], env=env)

    assert cli("enroll", "--server", live_url).exit_code == 0
    assert httpx.post(f"{live_url}/v1/devices/{device}/revoke", headers=testing.auth(user)).status_code == 200
    r = cli("run")
    assert r.exit_code == 1 and "DEVICE_REVOKED" in r.output and "destroyed" in r.output
    assert "Traceback" not in r.output
    r = cli("status")
    assert r.exit_code == 1 and "STORE_SHREDDED" in r.output and "Traceback" not in r.output
