"""Oversized records never halt a device: capped at write time, pushed in byte-sized changesets, and a change the
server refuses even alone is quarantined (CHANGE_TOO_LARGE) while the rest of the queue flows and pulls go on."""
from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid

import httpx
import pytest

from edge import outbox
from edge.sync_client import SyncOptions
from protocol import changeset
from protocol.errors import ValidationError
from protocol.schema import MAX_DETAIL_BYTES, MAX_RECORD_BYTES, STORED, HealthEvent
from sync_server.config import Settings

from .conftest import Devices, devices_on_own_server


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _noise(n: int) -> str:
    """n characters that zstd cannot shrink much (base64 of random bytes)."""
    return base64.b64encode(secrets.token_bytes(n)).decode()[:n]


def _queue_pre_cap_event(store, user, image: str) -> str:
    """Write a health_event as a version without the size caps did (same row and outbox change as
    Repository.add, validated without the caps): what a device upgraded with such a change still queued holds."""
    record = HealthEvent.model_validate({"user_id": user, "event_type": "scan", "occurred_at": _now(),
                                         "data": {"image": image}}, context=STORED)
    repo = store.repo("health_events")
    with store.transaction() as conn:
        hlc = store.clock.now().encode()
        payload = repo._write_row(conn, record, hlc, {}, new=True)
        store.record_change(conn, "health_events", str(record.id), "insert", payload, hlc)
    return str(record.id)


def _metric(store, user):
    return store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": 61,
                                     "recorded_at": _now()})


def test_the_reported_scenario_on_a_live_server(live_url, tmp_path):
    """Issue 9 item 3, as reported, over uvicorn: a 2.6 MB health_event, then a metric. Before the fix every
    `sync run` failed with PAYLOAD_TOO_LARGE (even at batch size 1), the metric never arrived and pulls stopped."""
    user = uuid.uuid4()
    with httpx.Client(base_url=live_url, timeout=30) as http:
        devs = Devices(tmp_path, http)
        try:
            a, b = devs.new(user, batch_size=1), devs.new(user)
            # Written today, the record is refused at once, naming the field.
            with pytest.raises(ValidationError) as err:
                a.store.health_events.add({"user_id": user, "event_type": "scan",
                                           "data": {"image": _noise(2_600_000)}})
            assert err.value.field == "data" and "limit" in err.value.message
            # One queued before the caps existed still cannot block the queue.
            big = _queue_pre_cap_event(a.store, user, _noise(2_600_000))
            metric = _metric(a.store, user)
            elsewhere = b.store.symptoms.add({"user_id": user, "description": "from b", "severity": 2,
                                              "recorded_at": _now()})
            b.run()

            result = a.run()
            assert (result.accepted, result.rejected, result.push_error) == (1, 1, None)
            assert a.store.symptoms.get(elsewhere.id).description == "from b"  # the pull ran
            [q] = outbox.quarantined(a.store)
            assert (q.row_id, q.code) == (big, "CHANGE_TOO_LARGE")
            assert "quarantine fix" in q.reason and "PAYLOAD_TOO_LARGE" in q.reason
            assert outbox.pending_count(a.store) == 0
            b.run()
            assert b.store.health_metrics.get(metric.id).value == 61  # the metric arrived
            assert a.run().rejected == 0  # and the next round is clean
        finally:
            devs.close()


def test_change_too_large_for_the_server_alone_is_quarantined_and_fixable(pg_url, tmp_path):
    """A server configured with a small body limit refuses a valid record even alone: it goes to quarantine with
    its own code, the rest of the queue is accepted, and `quarantine fix` shrinks it so it syncs. Removing the
    quarantine path makes run() raise PAYLOAD_TOO_LARGE here."""
    user = uuid.uuid4()
    with devices_on_own_server(pg_url, tmp_path, max_body_bytes=20_000) as devs:
        d = devs.new(user)
        event = d.store.health_events.add({"user_id": user, "event_type": "scan", "occurred_at": _now(),
                                           "data": {"image": _noise(MAX_DETAIL_BYTES - 100)}})
        metrics = [_metric(d.store, user) for _ in range(3)]
        result = d.run()
        assert (result.accepted, result.rejected) == (3, 1)
        [q] = outbox.quarantined(d.store)
        assert (q.row_id, q.code) == (str(event.id), "CHANGE_TOO_LARGE")
        assert outbox.pending_count(d.store) == 0
        outbox.fix(d.store, q.change_id, {"data": {"image": "thumbnail only"}})
        assert d.run().accepted == 1 and outbox.quarantined(d.store) == []
        assert {str(m.id) for m in metrics} <= {str(m.id) for m in d.store.health_metrics.list()}


def test_changesets_are_sized_by_bytes(devices):
    """Thirty 60 KB sessions (1.8 MB, ~1.35 MB after zstd) in one 2,000-change batch overran the server's 1 MiB
    body limit (a 413 and a retry at half the size); sized by bytes, no push is refused."""
    user = uuid.uuid4()
    d = devices.new(user)
    for _ in range(30):
        d.store.therapy_sessions.add({"user_id": user, "exercise": "squat", "reps": 10, "score": 80,
                                      "duration_s": 60, "started_at": _now(),
                                      "details": {"trace": _noise(60_000)}})
    statuses = []
    send = d.http.request
    d.http.request = lambda *a, **k: statuses.append((r := send(*a, **k)).status_code) or r
    assert d.run().accepted == 30
    assert 413 not in statuses and statuses.count(200) >= 5  # ≥ 4 pushes of ≤ 512 KiB, then the pull


def test_pending_batches_fit_the_byte_budget(store, user_id):
    for _ in range(5):
        store.health_events.add({"user_id": user_id, "event_type": "scan", "data": {"x": _noise(50_000)}})
    assert len(outbox.pending(store, 100)) == 5
    assert len(outbox.pending(store, 100, max_bytes=120_000)) == 2
    assert len(outbox.pending(store, 100, max_bytes=10)) == 1  # a change larger than the budget still goes alone
    assert len(outbox.pending(store, 1, max_bytes=10**9)) == 1


def test_a_record_at_the_cap_fits_the_default_body_limit():
    """The caps are well under the server's limit: a record just under MAX_RECORD_BYTES of incompressible text
    seals to a changeset under half the default body limit, and the client's default budget is under it too."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol.hlc import HybridLogicalClock
    from protocol.schema import new_id, validate

    doc = {"user_id": str(uuid.uuid4()), "members": {}}
    while len(validate("family_graph", doc).model_dump_json()) < MAX_RECORD_BYTES - 1_000:
        doc["members"][str(new_id())] = {"relation": "cousin", "name": _noise(200)}
    record = validate("family_graph", doc)
    change = changeset.Change(str(new_id()), "family_graph", str(record.id), "insert",
                              record.model_dump(mode="json"), HybridLogicalClock("d").now().encode())
    _, data = changeset.seal([change], device_id=str(uuid.uuid4()), user_id=doc["user_id"],
                             signing_key=Ed25519PrivateKey.generate(),
                             server_public_key=changeset.raw_public(changeset.new_server_key()))
    assert len(data) < Settings().max_body_bytes // 2
    assert SyncOptions().batch_bytes <= Settings().max_body_bytes // 2


def test_a_failed_push_still_pulls_and_the_result_says_both(devices):
    """Before the fix a push failure ended the round: nothing was pulled. Now the pull runs and the result and
    `sync status` report the push's error."""
    from edge.sync_client import status

    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    s = b.store.symptoms.add({"user_id": user, "description": "from b", "severity": 2, "recorded_at": _now()})
    b.run()
    _metric(a.store, user)
    real = a.http.request

    def push_cut(method, url, **kw):
        if url.endswith("/push"):
            raise httpx.ConnectError("cut")
        return real(method, url, **kw)

    a.http.request = push_cut
    result = a.run()
    assert result.push_error["code"] == "SYNC_UNAVAILABLE"
    assert a.store.symptoms.get(s.id).description == "from b" and result.pulled >= 1
    assert outbox.pending_count(a.store) == 1  # kept for the next round
    assert status(a.store)["last_error"].startswith("push: SYNC_UNAVAILABLE")
    a.http.request = real
    assert a.run().push_error is None and outbox.pending_count(a.store) == 0
    assert status(a.store)["last_error"] is None


def test_a_row_stored_before_the_caps_still_pulls(devices, db):
    """The server took records up to its body limit (compressed) before the caps: such a row must still be served
    and applied, or every pull after it would fail."""
    import json

    user = uuid.uuid4()
    d = devices.new(user)
    row_id = uuid.uuid4()
    with db.session("service_role", {"role": "service_role"}) as conn:
        conn.execute("INSERT INTO health_events (id, user_id, event_type, occurred_at, data, hlc) "
                     "VALUES (%s, %s, 'scan', now() - interval '1 hour', %s::jsonb, 'seed')",
                     (row_id, user, json.dumps({"image": "A" * 2_600_000})))
    result = d.run()
    assert result.push_error is None and result.pulled >= 1
    assert len(d.store.health_events.get(row_id).data["image"]) == 2_600_000


def test_the_server_refuses_an_over_cap_record_with_the_same_rule(devices):
    """Both sides apply one cap: an over-cap record that compresses well enough to pass the body limit (queued by
    a version before the caps) is refused by the server's validation, naming the field, and quarantined."""
    user = uuid.uuid4()
    d = devices.new(user)
    _queue_pre_cap_event(d.store, user, "A" * 500_000)
    assert d.run().rejected == 1
    [q] = outbox.quarantined(d.store)
    assert q.code == "VALIDATION_FAILED" and "data" in q.reason and "limit" in q.reason


def test_sync_run_reports_a_failed_push_and_still_pulls(live_url, tmp_path):
    """`healthsync edge sync run` when the push is refused (here the pinned server key is not the server's, so the
    server cannot open the changeset): the pull still runs, the JSON says both, the push error is printed with its
    code, and the exit status is 1."""
    import json

    from typer.testing import CliRunner

    from edge.device_keys import pin_server, server_pin
    from edge.keys import KeySource
    from edge.store import Store
    from edge.sync_cli import app
    from sync_server import testing

    user, key = uuid.uuid4(), secrets.token_bytes(32)
    with httpx.Client(base_url=live_url, timeout=30) as http:
        devs = Devices(tmp_path, http)
        try:
            other = devs.new(user)
            s = other.store.symptoms.add({"user_id": user, "description": "from the other device", "severity": 1,
                                          "recorded_at": _now()})
            other.run()
        finally:
            devs.close()
    path = tmp_path / "edge.db"
    env = {"HEALTHSYNC_KEY": key.hex(), "HEALTHSYNC_TOKEN": testing.token(user)}
    Store.open(path, KeySource(raw_key=key), create=True).close()
    runner = CliRunner()
    assert runner.invoke(app, ["enroll", "--server", live_url, "--store", str(path)], env=env).exit_code == 0
    with Store.open(path, KeySource(raw_key=key)) as store:
        pin = server_pin(store)
        pin_server(store, pin.url, changeset.raw_public(changeset.new_server_key()), pin.user_id)
        _metric(store, user)
    r = runner.invoke(app, ["run", "--json", "--store", str(path)], env=env)
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["push_error"]["code"] == "CHANGESET_TAMPERED" and out["pulled"] >= 1
    assert "push failed" in r.stderr and "CHANGESET_TAMPERED" in r.stderr and "Traceback" not in r.output
    with Store.open(path, KeySource(raw_key=key)) as store:
        assert store.symptoms.get(s.id).description == "from the other device"
        assert outbox.pending_count(store) == 1  # the metric stays queued
