"""No existence oracles: answers to a push or an enrollment never reveal that another user's id exists."""
from __future__ import annotations

import datetime as dt
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from edge import outbox
from edge.device_keys import device_keys, server_pin
from protocol import changeset, request_auth
from protocol.changeset import Change, raw_public
from sync_server import testing


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _metric(user, **extra):
    return {"user_id": user, "metric_type": "heart_rate", "value": 64, "unit": "bpm", "recorded_at": _now(), **extra}


def _verdict(q):
    return (q.code, q.reason)


def _visit(patient, **extra):
    return {"patient_id": patient, "doctor_id": uuid.uuid4(), "status": "requested",
            "scheduled_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=3), **extra}


def test_own_row_with_another_patients_existing_id_is_answered_like_any_row_one_may_not_write(devices):
    """Failed before: the clash answered `duplicate` (so the id exists) and the device dropped its own row."""
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    v, a = devices.new(victim), devices.new(attacker)
    taken = v.store.health_metrics.add(_metric(victim))
    visit = v.store.appointments.add(_visit(victim))
    v.run()
    a.store.health_metrics.add(_metric(attacker, id=taken.id))    # own row, someone's id
    a.store.appointments.add(_visit(attacker, id=visit.id))       # the mutable path too (family graph ids are
    # derived from their user, so a graph cannot even be written under someone else's id)
    res = a.run()
    assert (res.accepted, res.duplicate, res.rejected) == (0, 0, 2)
    clash = {q.table: _verdict(q) for q in outbox.quarantined(a.store)}  # kept for the user: nothing lost
    for q in outbox.quarantined(a.store):
        outbox.discard(a.store, q.change_id)
    # The non-existing case: fresh ids, rows the attacker may not write (another patient's).
    a.store.health_metrics.add(_metric(victim))
    a.store.appointments.add(_visit(victim))
    a.run()
    fresh = {q.table: _verdict(q) for q in outbox.quarantined(a.store)}
    assert clash == fresh
    assert clash["health_metrics"] == ("SYNC_REJECTED_RLS",
                                       "row-level security refused this health_metrics row for the caller")
    assert v.store.health_metrics.get(taken.id).user_id == victim  # the victim's row is untouched


def test_a_true_replay_of_ones_own_row_is_still_a_duplicate(devices, http):
    """Safety net for the check above: the same owner's existing row answers duplicate, not a rejection."""
    user = uuid.uuid4()
    d = devices.new(user)
    m = d.store.health_metrics.add(_metric(user))
    d.run()
    other = devices.new(user)  # a second device of the same user writes the same row id again
    other.store.health_metrics.add(_metric(user, id=m.id))
    res = other.run()
    assert (res.duplicate, res.rejected) == (1, 0)


def _push(http, dev, changes):
    pin, keys = server_pin(dev.store), device_keys(dev.store)
    data = changeset.seal(changes, device_id=dev.store.device_id, user_id=pin.user_id, signing_key=keys.signing,
                          server_public_key=pin.public_key)[1]
    receipts = http.post("/v1/sync/push", content=data, headers=testing.auth(pin.user_id)).json()["data"]["receipts"]
    return [(r["status"], r["code"], r["reason"].replace(c.pk, "<id>") if r["reason"] else None)
            for r, c in zip(receipts, changes, strict=True)]


def test_updates_and_deletes_of_another_patients_row_answer_as_for_a_missing_row(devices, http):
    """An update or a tombstone naming someone else's existing id gets the answer a non-existing id gets."""
    victim, attacker = uuid.uuid4(), uuid.uuid4()
    v, a = devices.new(victim), devices.new(attacker)
    graph = v.store.family_graph.add({"user_id": victim, "members": {}})
    v.store.users.add({"id": victim, "full_name": "Vic Tim"})
    v.run()
    hlc = a.store.clock.now().encode()

    def probe(table, pk):
        return _push(http, a, [Change(str(uuid.uuid4()), table, str(pk), "update", {"members": {}} if
                                      table == "family_graph" else {"full_name": "x"}, hlc),
                               Change(str(uuid.uuid4()), table, str(pk), "delete", None, hlc)])

    for table, existing in (("family_graph", graph.id), ("users", victim)):
        assert probe(table, existing) == probe(table, uuid.uuid4())
        assert probe(table, existing)[0][:2] == ("rejected", "NOT_FOUND")


def _enroll(http, user, device_id):
    body = {"device_id": str(device_id), "signing_key": raw_public(Ed25519PrivateKey.generate()).hex(),
            "agreement_key": raw_public(X25519PrivateKey.generate()).hex(), "name": "phone"}
    resp = http.post("/v1/devices", json=body, headers=testing.auth(user))
    payload = resp.json()
    return resp.status_code, payload.get("error"), sorted(payload.get("data") or {}), payload.get("data")


def test_enrolling_another_users_device_id_answers_as_for_a_fresh_id(devices, http):
    """Failed before 0017: the taken id answered 409 DUPLICATE (so someone's device has it)."""
    owner, other = uuid.uuid4(), uuid.uuid4()
    theirs = devices.new(owner)
    taken = _enroll(http, other, theirs.store.device_id)
    fresh = _enroll(http, other, uuid.uuid4())
    assert taken[:3] == fresh[:3] == (201, None, ["device_id", "server_public_key", "user_id"])
    assert taken[3]["user_id"] == str(other) and taken[3]["device_id"] == theirs.store.device_id
    # The two enrollments are separate devices: revoking the other user's leaves the owner's one syncing.
    assert http.post(f"/v1/devices/{theirs.store.device_id}/revoke", headers=testing.auth(other)).status_code == 200
    theirs.run()
    query = b"cursor=0&limit=1"
    proof = request_auth.sign_request(Ed25519PrivateKey.generate(), theirs.store.device_id, "GET", "/v1/sync/pull",
                                      query)
    resp = http.get("/v1/sync/pull?" + query.decode(), headers={**testing.auth(other), **proof})
    assert resp.json()["error"]["code"] == "DEVICE_BAD_SIGNATURE"  # other's entry has other's keys, not owner's


def test_re_enrolling_ones_own_device_with_other_keys_is_still_refused(devices, http):
    """Safety net: scoping ids per user must not let a user's own enrolled device be taken over by new keys."""
    user = uuid.uuid4()
    d = devices.new(user)
    status, error, _, _ = _enroll(http, user, d.store.device_id)
    assert (status, error["code"]) == (409, "DEVICE_EXISTS")
