"""Convergence: devices write offline and sync in random partial, duplicated and reordered ways; in the end every
replica and the server hold the same rows, and no acknowledged write is lost (architecture principles 3 and 6)."""
from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge import outbox
from edge.device_keys import device_keys, server_pin
from edge.sync_client import settle
from protocol import changeset
from protocol.changeset import Change
from protocol.merge import apply_change
from protocol.receipts import Receipt
from protocol.schema import APPOINTMENT_TRANSITIONS, TABLES
from sync_server import testing

from .conftest import Devices
from .server_view import server_rows

OPS = ["symptom", "delete", "name", "phone", "member_add", "member_del", "appt", "push", "pull", "push_lost",
       "push_partial"]


def _post(dev, http, limit):
    """Seal and send up to `limit` pending changes; returns the receipts."""
    pin, keys = server_pin(dev.store), device_keys(dev.store)
    changes = outbox.pending(dev.store, limit)
    if not changes:
        return []
    data = changeset.seal(changes, device_id=dev.store.device_id, user_id=pin.user_id, signing_key=keys.signing,
                          server_public_key=pin.public_key)[1]
    resp = http.post("/v1/sync/push", content=data, headers=testing.auth(pin.user_id))
    return [Receipt.from_wire(r) for r in resp.json()["data"]["receipts"]]


def _rows(store):
    out = {}
    for t in TABLES:
        for i, payload, deleted in store.query(f"SELECT id, payload, deleted FROM {t}"):
            out[(t, i)] = (store.unseal(payload, f"{t}|{i}"), bool(deleted))
    return out


def _step(op, dev, arg, ctx, http):
    store, user = dev.store, ctx["user"]
    if op == "symptom":
        s = store.symptoms.add({"user_id": user, "description": f"s{arg}", "severity": arg % 11,
                                "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
        ctx["written"].add(str(s.id))
    elif op == "delete":
        live = store.symptoms.list(limit=50)
        if live:
            store.symptoms.delete(live[arg % len(live)].id)
    elif op == "name":
        store.users.update(user, full_name=f"name {arg}")
    elif op == "phone":
        store.users.update(user, phone=f"555-{arg:04d}")
    elif op == "member_add":
        member = {"relation": "aunt", "birth_year": 1950 + arg % 50}
        store.family_graph.update(ctx["graph"], members={f"m{arg % 4}": member})
    elif op == "member_del":
        store.family_graph.update(ctx["graph"], members={f"m{arg % 4}": None})
    elif op == "appt":
        current = store.appointments.get(ctx["appt"]).status
        allowed = sorted(APPOINTMENT_TRANSITIONS[current])
        if allowed:
            store.appointments.update(ctx["appt"], status=allowed[arg % len(allowed)])
    elif op == "push":
        dev.push()
    elif op == "pull":
        dev.pull()
    elif op == "push_lost":
        _post(dev, http, 5)  # the server applies, the answer is lost: the next push re-sends these changes
    elif op == "push_partial":
        settle(store, _post(dev, http, 1 + arg % 3))  # as the sync client settles a push's receipts


@pytest.mark.e2e
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(n=st.integers(2, 5), ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 4), st.integers(0, 999)),
                                         min_size=5, max_size=30))
def test_replicas_and_server_converge(http, n, ops):
    user = uuid.uuid4()
    with tempfile.TemporaryDirectory() as tmp:
        devs = Devices(Path(tmp), http)
        try:
            d = [devs.new(user) for _ in range(n)]
            d[0].store.users.add({"id": user, "full_name": "start"})
            graph = d[0].store.family_graph.add({"user_id": user, "members": {"m0": {"relation": "mother"}}})
            appt = d[0].store.appointments.add({"patient_id": user, "doctor_id": uuid.uuid4(),
                                                "scheduled_at": dt.datetime(2031, 5, 1, tzinfo=dt.UTC)})
            for dev in d:
                dev.run()
            ctx = {"user": user, "graph": graph.id, "appt": appt.id, "written": set()}
            for op, idx, arg in ops:
                _step(op, d[idx % n], arg, ctx, http)
            for _ in range(2):
                for dev in d:
                    dev.run()
            server = server_rows(http, d[0].store)
            for dev in d:
                assert outbox.pending_count(dev.store) == 0
                assert _rows(dev.store) == server
            symptoms = {pk for (t, pk) in server if t == "symptoms"}
            assert ctx["written"] <= symptoms  # acknowledged writes all there (deleted ones as tombstones)
        finally:
            devs.close()


# ---------------------------------------------------------------- the pure merge, many more cases


_HLC = st.builds(lambda w, c, node: f"{w:015d}:{c:06d}:{node}", st.integers(1, 50), st.integers(0, 3),
                 st.sampled_from(["a", "b", "c"]))


@settings(max_examples=200, deadline=None)
@given(updates=st.lists(st.tuples(st.sampled_from(["full_name", "phone"]), st.text("xyz", min_size=1, max_size=3),
                                  _HLC), min_size=1, max_size=6, unique_by=lambda u: u[2]))
def test_profile_merge_is_order_independent(updates):
    pk = str(uuid.uuid4())
    changes = [Change(str(uuid.uuid4()), "users", pk, "update", {col: val}, hlc) for col, val, hlc in updates]
    start = apply_change("users", None, Change(str(uuid.uuid4()), "users", pk, "insert", {"id": pk},
                                              f"{0:015d}:000000:z"))
    results = set()
    for perm in itertools.islice(itertools.permutations(changes), 24):
        state = start
        for c in perm + perm[:1]:  # a duplicate delivery too
            state = apply_change("users", state, c)
        results.add((state.doc["full_name"], state.doc["phone"]))
    assert len(results) == 1
