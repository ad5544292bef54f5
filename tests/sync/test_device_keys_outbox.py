"""Device keys sealed in the store, and the outbox's receipt settlement (no server needed)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge import outbox
from edge.device_keys import device_keys, pin_server, server_pin
from edge.store import Store
from protocol.changeset import raw_private
from protocol.errors import HealthSyncError, NotFoundError, ValidationError
from protocol.receipts import Receipt


def test_keys_are_made_once_and_survive_reopening(tmp_path, store_key):
    path = tmp_path / "e.db"
    with Store.open(path, store_key, create=True) as s:
        first = device_keys(s)
        assert device_keys(s).signing_public == first.signing_public
    with Store.open(path, store_key) as s:
        again = device_keys(s)
    assert (again.signing_public, again.agreement_public) == (first.signing_public, first.agreement_public)
    # The private halves are sealed with the store key, never written in the clear.
    raw = path.read_bytes() + (tmp_path / "e.db-wal").read_bytes() if (tmp_path / "e.db-wal").exists() \
        else path.read_bytes()
    assert raw_private(first.signing) not in raw and raw_private(first.signing).hex().encode() not in raw


def test_server_pin_needs_enrollment(store):
    with pytest.raises(HealthSyncError, match="not enrolled"):
        server_pin(store)
    pin_server(store, "https://sync.example.org/", b"\x07" * 32, "u1")
    assert server_pin(store).url == "https://sync.example.org" and server_pin(store).public_key == b"\x07" * 32


def _add(store, user, n):
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    for i in range(n):
        store.symptoms.add({"user_id": user, "description": f"s{i}", "severity": 1, "recorded_at": when})
    return outbox.pending(store)


def test_receipts_settle_the_outbox(store, user_id):
    a, b, c, d = _add(store, user_id, 4)
    counts = outbox.apply_receipts(store, [Receipt(a.change_id, "accepted"), Receipt(b.change_id, "duplicate"),
                                           Receipt(c.change_id, "rejected", "VALIDATION_FAILED", "bad"),
                                           Receipt(d.change_id, "weird-status")])
    assert counts == {"accepted": 1, "duplicate": 1, "superseded": 0, "rejected": 1, "restamped": 0}
    assert [x.change_id for x in outbox.pending(store)] == [d.change_id]  # unknown status: kept, not guessed
    q = outbox.quarantined(store)
    assert [(x.change_id, x.code, x.reason) for x in q] == [(c.change_id, "VALIDATION_FAILED", "bad")]


def test_pending_changes_carry_the_whole_record(store, user_id):
    (change,) = _add(store, user_id, 1)
    assert change.op == "insert" and change.columns["description"] == "s0"
    assert change.columns["id"] == change.pk


def test_retry_and_discard(store, user_id):
    (a, b) = _add(store, user_id, 2)
    outbox.apply_receipts(store, [Receipt(a.change_id, "rejected", "X", "r"), Receipt(b.change_id, "rejected",
                                                                                    "X", "r")])
    outbox.retry(store, a.change_id)
    assert [x.change_id for x in outbox.pending(store)] == [a.change_id]
    assert outbox.pending(store)[0].columns == a.columns
    outbox.discard(store, b.change_id)
    assert outbox.quarantined(store) == []
    with pytest.raises(NotFoundError):
        outbox.discard(store, str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        outbox.retry(store, str(uuid.uuid4()))


def test_fix_an_update_and_refuse_to_fix_a_delete(store, user_id):
    store.users.add({"id": user_id, "full_name": "A"})
    store.users.update(user_id, phone="+44 1")
    m = store.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 70})
    store.health_metrics.delete(m.id)
    changes = outbox.pending(store)
    update, delete = changes[1], changes[3]
    outbox.apply_receipts(store, [Receipt(c.change_id, "rejected", "X", "r") for c in changes[1:]])
    new_id = outbox.fix(store, update.change_id, {"phone": "+44 2"})
    [sent] = [c for c in outbox.pending(store) if c.change_id == new_id]
    assert (sent.op, sent.columns) == ("update", {"phone": "+44 2"})
    assert store.users.get(user_id).phone == "+44 2" and store.users.get(user_id).full_name == "A"
    with pytest.raises(ValidationError, match="nothing to fix"):
        outbox.fix(store, delete.change_id, {"value": 71})
    with pytest.raises(NotFoundError):
        outbox.fix(store, str(uuid.uuid4()), {"phone": "x"})
