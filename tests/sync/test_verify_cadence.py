"""How often a device verifies its copy: checksums are asked for on the first pull, once `verify_every_s` has passed,
and at once when the server's scope digest changes; other pulls ask for none and the server computes none."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge.sync_client import SyncClient
from tests.sync.doctor_devices import doctor_device, seed_doctor


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _record_pulls(client: SyncClient) -> list[tuple[str, dict]]:
    """Every pull the client sends from now on: its `checksums` parameter and the answer's data."""
    real, seen = client.http.request, []

    def request(method, url, **kw):
        resp = real(method, url, **kw)
        if url.endswith("/v1/sync/pull"):
            seen.append((str(kw.get("params", {}).get("checksums")), resp.json()["data"]))
        return resp

    client.http.request = request
    return seen


def _commit_behind_cursor(db, client: SyncClient, user: uuid.UUID, phone: str) -> None:
    """A server write whose change_seq the device's cursor has already passed (a transaction that committed late):
    no pull by cursor brings it, only a checksum shows it."""
    stamp = f"{int(_now().timestamp() * 1000) + 30_000:015d}:000000:{uuid.uuid4()}"
    with db.session("service_role", {"role": "service_role"}) as conn:
        seq = conn.execute("UPDATE users SET phone = %s, hlc = %s, col_clocks = col_clocks || "
                           "jsonb_build_object('phone', %s::text) WHERE id = %s RETURNING change_seq",
                           (phone, stamp, stamp, user)).fetchone()["change_seq"]
    with client.store.transaction() as conn:
        conn.execute("UPDATE sync_state SET value=? WHERE key='cursor'", (str(seq),))


def test_only_the_first_pull_within_the_interval_asks_for_checksums(devices):
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann"})
    pulls = _record_pulls(a)
    a.run()
    a.run()
    assert [asked for asked, _ in pulls] == ["true", "false"]
    first, second = pulls[0][1], pulls[1][1]
    assert "checksums" in first and "checksums" not in second  # the server computed none for the second
    assert first["scope"] == second["scope"]  # the same patients readable: the same digest


def test_a_verify_skipped_for_pending_pushes_is_asked_for_again(devices):
    """With local changes not yet pushed, checksums differ by design and are not compared: that pull does not
    count as a verify, so the next one asks again (else the device would go a whole interval unverified)."""
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann"})
    pulls = _record_pulls(a)
    a.pull()  # pull only: the profile is still pending
    a.pull()
    assert [asked for asked, _ in pulls] == ["true", "true"]
    a.run()
    a.pull()
    assert [asked for asked, _ in pulls][2:] == ["true", "false"]


def test_a_divergence_is_repaired_at_the_next_verify_not_before(devices, db):
    user = uuid.uuid4()
    a = devices.new(user, verify_every_s=60)
    a.store.users.add({"id": user, "full_name": "Ann", "phone": "555-0000"})
    a.run()
    _commit_behind_cursor(db, a, user, "555-9999")
    assert a.run().repaired == []  # within the minute: no checksums asked for, the late row not seen yet
    assert a.store.users.get(user).phone == "555-0000"
    real = a.store.wall_ms
    a.store.wall_ms = lambda: real() + 61_000  # a minute later
    assert "users" in a.run().repaired
    assert a.store.users.get(user).phone == "555-9999"


def test_a_clock_set_back_verifies(devices, db):
    """A last verify 'in the future' (the clock went back) is not trusted to be recent."""
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann", "phone": "555-0000"})
    a.run()
    with a.store.transaction() as conn:
        conn.execute("UPDATE sync_state SET value=? WHERE key='verified_at_ms'", (str(a._now_ms() + 3_600_000),))
    _commit_behind_cursor(db, a, user, "555-1234")
    assert "users" in a.run().repaired


def _has_metric(client: SyncClient, metric_id) -> bool:
    return bool(client.store.query("SELECT 1 FROM health_metrics WHERE id=?", (str(metric_id),)))


@pytest.mark.parametrize("on", [True, False], ids=["scope check on", "scope check off"])
def test_a_patient_entering_a_doctors_scope_is_pulled_at_once(devices, db, monkeypatch, on):
    """Rows older than the doctor's cursor become visible with a new appointment: the scope digest changes, so the
    doctor's next round verifies (well within the interval) and pulls them. Without the check they wait."""
    doc_user = uuid.uuid4()
    doctor = seed_doctor(db, doc_user)
    doc = doctor_device(devices, doc_user)
    doc.run()
    late = uuid.uuid4()
    p = devices.new(late)
    old = p.store.health_metrics.add({"user_id": late, "metric_type": "heart_rate", "value": 88, "unit": "bpm",
                                      "recorded_at": _now()})
    p.run()
    other = uuid.uuid4()
    o = devices.new(other)
    o.store.appointments.add({"patient_id": other, "doctor_id": doctor, "scheduled_at": _now()})
    o.run()
    doc.run()  # the doctor's cursor is now past the patient's metric (another visit came later), not visible yet
    assert not _has_metric(doc, old.id)
    p.store.appointments.add({"patient_id": late, "doctor_id": doctor, "scheduled_at": _now()})
    p.run()
    if not on:
        monkeypatch.setattr(SyncClient, "_scope_changed", lambda self, page: False)
    res = doc.run()
    assert _has_metric(doc, old.id) is on
    assert ("health_metrics" in res.repaired) is on
    if on:
        assert doc.run().repaired == []  # verified with the new digest: the next round asks for no checksums
