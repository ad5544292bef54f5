"""The encrypted edge store: repositories, outbox capture, migrations and keys, on a real SQLite file."""
from __future__ import annotations

import sqlite3
import uuid

import pytest

from edge import migrations
from edge.keys import KdfParams, KeySource
from edge.store import Store
from protocol.errors import (
    NotFoundError,
    SchemaVersionError,
    StoreCorruptError,
    StoreLockedError,
    ValidationError,
)
from tests.conftest import wind_back

FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)


def outbox(store):
    return store.query("SELECT tbl, row_id, op FROM outbox ORDER BY seq")


def test_write_is_captured_in_the_same_transaction(store, user_id):
    m = store.health_metrics.add({"user_id": user_id, "metric_type": "oxygen_saturation", "value": 97})
    assert outbox(store) == [("health_metrics", str(m.id), "insert")]
    assert store.health_metrics.get(m.id).value == 97


def test_failed_write_leaves_neither_row_nor_change(store, user_id):
    with pytest.raises(ValidationError):
        store.health_metrics.add({"user_id": user_id, "metric_type": "oxygen_saturation", "value": 140})
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.health_metrics.add({"user_id": user_id, "metric_type": "oxygen_saturation", "value": 97})
            raise RuntimeError("crash between the write and the commit")
    assert store.health_metrics.count() == 0
    assert outbox(store) == []


def test_phi_is_not_readable_in_the_file(tmp_path, store_key, user_id):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as s:
        s.symptoms.add({"user_id": user_id, "description": "crushing chest pain radiating to left arm",
                        "severity": 9})
        s.users.add({"id": user_id, "full_name": "Zebediah Quartermain", "email": "zq@example.org"})
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"crushing chest pain", b"Zebediah", b"zq@example.org"):
        assert secret not in raw


def test_wrong_passphrase_is_refused_and_data_is_intact(tmp_path, user_id):
    path = tmp_path / "edge.db"
    with Store.open(path, KeySource(passphrase="correct horse"), create=True, kdf=FAST_KDF) as s:
        s.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 70})
    before = path.read_bytes()
    with pytest.raises(StoreLockedError, match="wrong passphrase"):
        Store.open(path, KeySource(passphrase="battery staple"))
    assert path.read_bytes() == before
    with Store.open(path, KeySource(passphrase="correct horse")) as s:
        assert [m.value for m in s.health_metrics.list()] == [70]


def test_missing_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    monkeypatch.delenv("HEALTHSYNC_KEY", raising=False)
    with pytest.raises(StoreLockedError) as err:
        Store.open(tmp_path / "edge.db", create=True)
    assert "HEALTHSYNC_PASSPHRASE" in err.value.hint


def test_malformed_raw_key_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTHSYNC_KEY", "abc")
    with pytest.raises(StoreLockedError, match="64 hex"):
        Store.open(tmp_path / "edge.db", create=True)


def test_passphrase_uses_argon2id_params_recorded_in_the_store(tmp_path):
    path = tmp_path / "edge.db"
    Store.open(path, KeySource(passphrase="pw"), create=True, kdf=FAST_KDF).close()
    conn = sqlite3.connect(path)
    kdf = conn.execute("SELECT value FROM meta WHERE key='kdf'").fetchone()[0]
    conn.close()
    assert '"alg": "argon2id"' in kdf and '"m": 8192' in kdf


def test_tampered_ciphertext_is_detected(tmp_path, store_key, user_id):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as s:
        a = s.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 70})
        b = s.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 90})
    conn = sqlite3.connect(path)
    # Move b's sealed payload onto a's row: the AES-GCM associated data binds payloads to their row.
    conn.execute("UPDATE health_metrics SET payload=(SELECT payload FROM health_metrics WHERE id=?) WHERE id=?",
                 (str(b.id), str(a.id)))
    conn.commit()
    conn.close()
    with Store.open(path, store_key) as s, pytest.raises(StoreCorruptError):
        s.health_metrics.get(a.id)


def test_not_a_store(tmp_path, store_key):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE x (y)")
    conn.close()
    with pytest.raises(StoreCorruptError):
        Store.open(path, store_key)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreCorruptError):
        Store.open(garbage, store_key)


def test_opening_a_missing_store_says_how_to_create_it(tmp_path, store_key):
    with pytest.raises(NotFoundError) as err:
        Store.open(tmp_path / "nope.db", store_key)
    assert "edge init" in err.value.hint


def test_forward_migrations_run_on_open(tmp_path, store_key):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as s:
        assert s.schema_version == migrations.LATEST
    wind_back(path, 1)  # as an older release left it: every table added later dropped; they come back
    with Store.open(path, store_key) as s:
        assert s.schema_version == migrations.LATEST
        assert s.query("SELECT count(*) FROM quarantine") == [(0,)]


def test_store_from_newer_software_is_refused(tmp_path, store_key):
    path = tmp_path / "edge.db"
    Store.open(path, store_key, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={migrations.LATEST + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError):
        Store.open(path, store_key)


def test_observations_are_append_only(store, user_id):
    m = store.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 80})
    with pytest.raises(ValidationError, match="append-only"):
        store.health_metrics.update(m.id, value=81)
    fixed = store.health_metrics.correct(m.id, value=79.5)
    assert fixed.supersedes == m.id
    assert [x.value for x in store.health_metrics.list(owner=user_id)] == [79.5]
    assert len(store.health_metrics.list(owner=user_id, include_superseded=True)) == 2


def test_a_correction_cannot_hide_another_patients_row(store, user_id):
    theirs = store.health_metrics.add({"user_id": uuid.uuid4(), "metric_type": "weight", "value": 80})
    with pytest.raises(ValidationError) as err:
        store.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 81,
                                  "supersedes": theirs.id})
    assert err.value.field == "supersedes"
    assert [m.id for m in store.health_metrics.list(owner=theirs.user_id)] == [theirs.id]


def test_delete_is_a_captured_tombstone(store, user_id):
    m = store.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 80})
    store.health_metrics.delete(m.id)
    with pytest.raises(NotFoundError):
        store.health_metrics.get(m.id)
    assert outbox(store)[-1] == ("health_metrics", str(m.id), "delete")


def test_profile_updates_track_per_column_clocks(store, user_id):
    store.users.add({"id": user_id, "full_name": "A"})
    store.users.update(user_id, phone="+44 1")
    clocks = dict(store.query("SELECT 'c', clocks FROM users"))["c"]
    assert '"phone"' in clocks and '"full_name"' in clocks
    assert store.users.get(user_id).phone == "+44 1"


def test_appointment_state_machine(store, user_id):
    a = store.appointments.add({"patient_id": user_id, "doctor_id": uuid.uuid4(),
                                "scheduled_at": "2030-01-01T10:00:00Z"})
    with pytest.raises(ValidationError, match="requested to completed"):
        store.appointments.update(a.id, status="completed")
    assert store.appointments.update(a.id, status="confirmed").status == "confirmed"


def test_doctors_are_read_only_on_devices(store):
    with pytest.raises(ValidationError, match="owned by the server"):
        store.doctors.add({"full_name": "Dr X", "specialty": "cardiology"})


def test_family_members_merge_individually(store, user_id):
    g = store.family_graph.add({"user_id": user_id, "members": {"m1": {"relation": "mother"}}})
    store.family_graph.update(g.id, members={"m2": {"relation": "father",
                                                    "conditions": [{"name": "mi", "age_of_onset": 50}]}})
    assert set(store.family_graph.get(g.id).members) == {"m1", "m2"}
    store.family_graph.update(g.id, members={"m1": None})
    assert set(store.family_graph.get(g.id).members) == {"m2"}


def test_list_filters_and_paging(store, user_id):
    other = uuid.uuid4()
    for v in (60, 61, 62):
        store.health_metrics.add({"user_id": user_id, "metric_type": "heart_rate", "value": v})
    store.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 70})
    store.health_metrics.add({"user_id": other, "metric_type": "heart_rate", "value": 99})
    hr = store.health_metrics.list(owner=user_id, metric_type="heart_rate")
    assert [m.value for m in hr] == [62, 61, 60]
    assert [m.value for m in store.health_metrics.list(owner=user_id, metric_type="heart_rate", limit=1,
                                                       offset=1)] == [61]
    with pytest.raises(ValidationError):
        store.health_metrics.list(colour="red")


def test_clock_survives_reopen(tmp_path, store_key, user_id):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as s:
        s.health_metrics.add({"user_id": user_id, "metric_type": "weight", "value": 70})
        last = s.clock.last
    with Store.open(path, store_key) as s:
        assert s.clock.now() > last


def test_v5_drops_owner_indexes_a_composite_index_already_answers(tmp_path, store_key, user_id):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as s:
        s.health_metrics.add({"user_id": user_id, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
    wind_back(path, 4)
    conn = sqlite3.connect(path)  # as release v4 left it: with the single-column owner index
    conn.execute("CREATE INDEX ix_health_metrics_owner ON health_metrics(owner)")
    conn.close()
    with Store.open(path, store_key) as s:
        names = {r[0] for r in s.query("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "ix_health_metrics_owner" not in names and "ix_users_owner" in names  # users has no other index
        plan = " ".join(r[3] for r in s.query("EXPLAIN QUERY PLAN SELECT id FROM health_metrics WHERE owner=?",
                                              (str(user_id),)))
        assert "USING" in plan and "ix_health_metrics_" in plan, plan  # still an index lookup, not a scan
        assert s.health_metrics.count() == 1
