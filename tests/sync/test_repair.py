"""The checksum repair, proven on real divergence: each case runs with the repair on (fixed) and off (still
diverged), so the repair is what fixes it. And on equal data the edge's and the server's checksums agree."""
from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from edge import pull
from edge.sync_client import SyncClient
from protocol.schema import TABLES

from .server_view import server_checksums


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def _switch(monkeypatch, repair: bool) -> None:
    if not repair:
        monkeypatch.setattr(SyncClient, "_repair", lambda self, server_sums, result: None)


@pytest.mark.parametrize("repair", [True, False], ids=["repair on", "repair off"])
def test_a_row_committed_behind_the_cursor_is_repaired(devices, db, monkeypatch, repair):
    """A server write whose change_seq the device's cursor has already passed (a transaction that committed late,
    or a row written by another route): no pull by cursor brings it, only the checksum shows it."""
    user = uuid.uuid4()
    a = devices.new(user, verify_every_s=0)  # every round verifies: this test is about the repair, not its cadence
    a.store.users.add({"id": user, "full_name": "Ann", "phone": "555-0000"})
    a.run()
    stamp = f"{int(_now().timestamp() * 1000) + 30_000:015d}:000000:{uuid.uuid4()}"
    with db.session("service_role", {"role": "service_role"}) as conn:
        seq = conn.execute("UPDATE users SET phone = '555-9999', hlc = %s, "
                           "col_clocks = col_clocks || jsonb_build_object('phone', %s::text) WHERE id = %s "
                           "RETURNING change_seq", (stamp, stamp, user)).fetchone()["change_seq"]
    # The device's cursor is already past that sequence value, as when the row's transaction committed after a
    # later one had been pulled.
    with a.store.transaction() as conn:
        conn.execute("UPDATE sync_state SET value=? WHERE key='cursor'", (str(seq),))
    _switch(monkeypatch, repair)
    res = a.run()
    if repair:
        assert "users" in res.repaired
        assert a.store.users.get(user).phone == "555-9999"
        assert a.run().repaired == []  # agreed again
    else:
        assert a.store.users.get(user).phone == "555-0000"


@pytest.mark.parametrize("repair", [True, False], ids=["repair on", "repair off"])
def test_a_lost_pull_page_is_repaired(devices, monkeypatch, repair):
    """A page whose rows never reach the device while its cursor does (a cache, a proxy, a bug)."""
    user = uuid.uuid4()
    a = devices.new(user)
    for i in range(5):
        a.store.symptoms.add({"user_id": user, "description": f"s{i}", "severity": 1, "recorded_at": _now()})
    a.run()
    b = devices.new(user, page_size=2)
    real, lost = b.http.request, []

    def lose_first_page(method, url, **kw):
        resp = real(method, url, **kw)
        if url.endswith("/pull") and not lost:
            body = resp.json()
            lost.extend((c["table"], c["pk"]) for c in body["data"]["changes"])
            body["data"]["changes"] = []
            return httpx.Response(resp.status_code, json=body)
        return resp

    b.http.request = lose_first_page
    _switch(monkeypatch, repair)
    res = b.run()
    assert lost
    present = [bool(b.store.query(f"SELECT 1 FROM {t} WHERE id=?", (pk,))) for t, pk in lost]
    assert present == [repair] * len(lost)
    assert bool(res.repaired) is repair


def test_edge_and_server_checksums_agree_on_equal_data(devices, http):
    """Every table, with profiles, documents, a state machine, observations and tombstones on two devices."""
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann", "date_of_birth": "1970-01-02"})
    s = a.store.symptoms.add({"user_id": user, "description": "cough", "severity": 3, "recorded_at": _now()})
    a.store.symptoms.add({"user_id": user, "description": "fever", "severity": 5, "recorded_at": _now()})
    a.store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": 61, "recorded_at": _now()})
    appt = a.store.appointments.add({"patient_id": user, "doctor_id": uuid.uuid4(),
                                     "scheduled_at": dt.datetime(2031, 1, 1, tzinfo=dt.UTC)})
    a.run(), b.run()
    a.store.symptoms.delete(s.id)
    b.store.family_graph.add({"user_id": user, "members": {"m1": {"relation": "mother"}}})
    b.store.appointments.update(appt.id, status="cancelled")
    b.store.users.update(user, phone="555-0101")
    a.run(), b.run(), a.run()
    server = server_checksums(http, a.store)
    assert set(server) == set(TABLES)
    for d in (a, b):
        assert pull.local_checksums(d.store, server) == server
        assert d.run().repaired == []
    # Not vacuous: a change on the server moves its checksum, and the device follows.
    a.store.symptoms.add({"user_id": user, "description": "new", "severity": 1, "recorded_at": _now()})
    a.run()
    after = server_checksums(http, a.store)
    assert after["symptoms"] != server["symptoms"] and after["users"] == server["users"]
    assert pull.local_checksums(a.store, after) == after
