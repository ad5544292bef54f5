"""Bad input at the push endpoint: each case gets its specific error or rejection receipt and leaves data intact."""
from __future__ import annotations

import datetime as dt
import uuid

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import outbox
from edge.device_keys import device_keys, server_pin
from protocol import changeset
from protocol.changeset import Change
from protocol.schema import new_id
from sync_server import testing


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


@pytest.fixture
def dev(devices):
    user = uuid.uuid4()
    d = devices.new(user)
    d.user = user
    return d


def _seal(dev, changes, **kw):
    pin, keys = server_pin(dev.store), device_keys(dev.store)
    args = dict(device_id=dev.store.device_id, user_id=pin.user_id, signing_key=keys.signing,
                server_public_key=pin.public_key)
    args.update(kw)
    return changeset.seal(changes, **args)[1]


def _push(http, user, data):
    resp = http.post("/v1/sync/push", content=data, headers=testing.auth(user))
    return resp.status_code, resp.json()


def _count(db, table, user):
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE user_id=%s", (user,)).fetchone()["n"]


def _symptom(dev, text="ache"):
    dev.store.symptoms.add({"user_id": dev.user, "description": text, "severity": 2, "recorded_at": _now()})
    return outbox.pending(dev.store)


def test_tampered_ciphertext(dev, http, db):
    header, ct, sig = msgpack.unpackb(_seal(dev, _symptom(dev)))
    ct = ct[:-1] + bytes([ct[-1] ^ 0x55])
    status, body = _push(http, dev.user, msgpack.packb([header, ct, sig]))
    assert (status, body["error"]["code"]) == (400, "CHANGESET_TAMPERED")
    assert _count(db, "symptoms", dev.user) == 0


def test_wrong_signature(dev, http, db):
    data = _seal(dev, _symptom(dev), signing_key=Ed25519PrivateKey.generate())
    status, body = _push(http, dev.user, data)
    assert (status, body["error"]["code"]) == (400, "CHANGESET_BAD_SIGNATURE")
    assert _count(db, "symptoms", dev.user) == 0


def test_revoked_device_is_refused_and_others_keep_working(dev, devices, http, db):
    other = devices.new(dev.user)
    resp = http.post(f"/v1/devices/{dev.store.device_id}/revoke", headers=testing.auth(dev.user))
    assert resp.status_code == 200
    status, body = _push(http, dev.user, _seal(dev, _symptom(dev)))
    assert (status, body["error"]["code"]) == (403, "DEVICE_REVOKED")
    assert _count(db, "symptoms", dev.user) == 0
    other.store.symptoms.add({"user_id": dev.user, "description": "fine", "severity": 1, "recorded_at": _now()})
    assert other.run().accepted == 1


def test_replayed_changeset_is_all_duplicates_and_writes_once(dev, http, db):
    data = _seal(dev, _symptom(dev))
    assert _push(http, dev.user, data)[1]["data"]["counts"] == {"accepted": 1}
    assert _push(http, dev.user, data)[1]["data"]["counts"] == {"duplicate": 1}
    assert _count(db, "symptoms", dev.user) == 1


def test_changeset_for_another_user(dev, http, db):
    intruder = uuid.uuid4()
    status, body = _push(http, intruder, _seal(dev, _symptom(dev)))
    assert (status, body["error"]["code"]) == (403, "CHANGESET_WRONG_USER")
    assert _count(db, "symptoms", dev.user) == 0


def test_rows_owned_by_another_user_are_rejected_per_change(dev, http, db):
    victim = uuid.uuid4()
    dev.store.symptoms.add({"user_id": victim, "description": "forged", "severity": 1, "recorded_at": _now()})
    _symptom(dev, "mine")
    res = dev.run()
    assert (res.accepted, res.rejected) == (1, 1)
    assert [q.code for q in outbox.quarantined(dev.store)] == ["SYNC_REJECTED_RLS"]
    assert _count(db, "symptoms", victim) == 0 and _count(db, "symptoms", dev.user) == 1


def test_device_of_another_user_cannot_push_even_with_its_own_token(devices, http):
    a, b = uuid.uuid4(), uuid.uuid4()
    da = devices.new(a)
    da.store.symptoms.add({"user_id": b, "description": "x", "severity": 1, "recorded_at": _now()})
    pin, keys = server_pin(da.store), device_keys(da.store)
    data = changeset.seal(outbox.pending(da.store), device_id=da.store.device_id, user_id=str(b),
                          signing_key=keys.signing, server_public_key=pin.public_key)[1]
    status, body = _push(http, b, data)  # b's token, a's device: invisible to b under RLS
    assert (status, body["error"]["code"]) == (403, "DEVICE_UNKNOWN")


def test_unknown_table_and_column_are_rejected_without_blocking_the_rest(dev, http, db):
    hlc = dev.store.clock.now().encode()
    good = _symptom(dev)
    bad = [Change(str(new_id()), "prescriptions", str(new_id()), "insert", {"id": "x"}, hlc),
           Change(str(new_id()), "users", str(dev.user), "update", {"shoe_size": 44}, hlc)]
    status, body = _push(http, dev.user, _seal(dev, bad + good))
    receipts = body["data"]["receipts"]
    assert status == 200
    assert [(r["status"], r["code"]) for r in receipts] == [("rejected", "UNKNOWN_TABLE"),
                                                           ("rejected", "NOT_FOUND"), ("accepted", None)]
    dev.store.users.add({"id": dev.user})
    dev.run()
    status, body = _push(http, dev.user, _seal(dev, [bad[1]]))
    assert body["data"]["receipts"][0]["code"] == "UNKNOWN_COLUMN"


def test_invalid_record_is_rejected_with_the_field(dev, http, db):
    hlc = dev.store.clock.now().encode()
    pk = str(new_id())
    bad = Change(str(new_id()), "health_metrics", pk, "insert",
                 {"id": pk, "user_id": str(dev.user), "metric_type": "heart_rate", "value": 900,
                  "recorded_at": _now().isoformat()}, hlc)
    status, body = _push(http, dev.user, _seal(dev, [bad]))
    r = body["data"]["receipts"][0]
    assert (r["status"], r["code"]) == ("rejected", "VALIDATION_FAILED")
    assert "physiological range" in r["reason"]
    assert _count(db, "health_metrics", dev.user) == 0


def test_read_only_table_is_rejected(dev, http):
    hlc = dev.store.clock.now().encode()
    pk = str(new_id())
    c = Change(str(new_id()), "doctors", pk, "insert", {"id": pk, "full_name": "Dr Me", "specialty": "x"}, hlc)
    r = _push(http, dev.user, _seal(dev, [c]))[1]["data"]["receipts"][0]
    assert (r["status"], r["code"]) == ("rejected", "READ_ONLY_TABLE")


def test_future_format_version(dev, http, db):
    header, ct, sig = msgpack.unpackb(_seal(dev, _symptom(dev)))
    h = msgpack.unpackb(header)
    h["v"] = 3
    status, body = _push(http, dev.user, msgpack.packb([msgpack.packb(h), ct, sig]))
    assert (status, body["error"]["code"]) == (400, "CHANGESET_FORMAT_TOO_NEW")
    assert _count(db, "symptoms", dev.user) == 0


def test_oversized_body(dev, http, db):
    status, body = _push(http, dev.user, b"\x00" * (2 * 1024 * 1024))
    assert (status, body["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("data", [b"", b"not msgpack at all \xff\xfe", msgpack.packb([1, 2, 3])])
def test_malformed_bytes(dev, http, data):
    status, body = _push(http, dev.user, data)
    assert (status, body["error"]["code"]) == (400, "CHANGESET_MALFORMED")


def test_push_without_token_is_refused(dev, http):
    resp = http.post("/v1/sync/push", content=_seal(dev, _symptom(dev)))
    assert resp.status_code == 401


def test_quarantined_rows_do_not_trigger_repairs_forever(dev):
    dev.store.symptoms.add({"user_id": uuid.uuid4(), "description": "forged", "severity": 1, "recorded_at": _now()})
    dev.run()
    assert dev.run().repaired == []


def test_newer_record_schema_is_refused(dev, http, db):
    from protocol.schema import SCHEMA_VERSION

    status, body = _push(http, dev.user, _seal(dev, _symptom(dev), schema_version=SCHEMA_VERSION + 1))
    assert (status, body["error"]["code"]) == (400, "CHANGESET_SCHEMA_TOO_NEW")
    assert _count(db, "symptoms", dev.user) == 0


def test_pulls_of_patient_data_are_audited(dev, devices, db):
    other = devices.new(dev.user)
    _symptom(dev)
    dev.run()
    other.run()
    with db.session("service_role", {"role": "service_role"}) as conn:
        rows = conn.execute("SELECT table_name, detail FROM audit_log WHERE action='sync_pull' AND subject_id=%s",
                            (dev.user,)).fetchall()
    assert ("symptoms", {"rows": 1}) in [(r["table_name"], r["detail"]) for r in rows]


def test_change_stamped_far_in_the_future_is_rejected(dev, http, db):
    import time

    pk = str(new_id())
    future = f"{int(time.time() * 1000) + 3 * 24 * 3600 * 1000:015d}:000000:{dev.store.device_id}"
    doc = {"id": pk, "user_id": str(dev.user), "description": "x", "severity": 1, "recorded_at": _now().isoformat()}
    r = _push(http, dev.user, _seal(dev, [Change(str(new_id()), "symptoms", pk, "insert", doc, future)]))[1]
    assert r["data"]["receipts"][0]["code"] == "CLOCK_SKEW"
    assert _count(db, "symptoms", dev.user) == 0


def test_correction_cannot_supersede_another_patients_row(dev, devices, http, db):
    victim = uuid.uuid4()
    dv = devices.new(victim)
    original = dv.store.symptoms.add({"user_id": victim, "description": "real", "severity": 5, "recorded_at": _now()})
    assert dv.run().accepted == 1
    own = dev.store.symptoms.add({"user_id": dev.user, "description": "mine", "severity": 2, "recorded_at": _now()})
    assert dev.run().accepted == 1
    hlc = dev.store.clock.now().encode()
    forged, fixed = str(new_id()), str(new_id())
    doc = {"user_id": str(dev.user), "description": "forged", "severity": 1, "recorded_at": _now().isoformat()}
    changes = [Change(str(new_id()), "symptoms", forged, "insert",
                      {**doc, "id": forged, "supersedes": str(original.id)}, hlc),
               Change(str(new_id()), "symptoms", fixed, "insert", {**doc, "id": fixed, "supersedes": str(own.id)},
                      hlc)]
    status, body = _push(http, dev.user, _seal(dev, changes))
    receipts = body["data"]["receipts"]
    assert status == 200 and [r["status"] for r in receipts] == ["rejected", "accepted"]
    assert "supersedes" in receipts[0]["reason"]
    assert _count(db, "symptoms", victim) == 1 and _count(db, "symptoms", dev.user) == 2
