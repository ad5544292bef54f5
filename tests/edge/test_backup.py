"""Litestream backup and restore of the real store with the real litestream binary."""
from __future__ import annotations

import pytest

from edge.backup import Backup, replica_config
from edge.errors import HealthSyncError, StoreLockedError
from edge.keys import KeySource
from edge.store import Store


def test_backup_restore_round_trip_keeps_data_and_key(tmp_path, store_key, user_id):
    db = tmp_path / "edge.db"
    with Store.open(db, store_key, create=True) as s:
        for v in (60, 70, 80):
            s.health_metrics.add({"user_id": user_id, "metric_type": "heart_rate", "value": v})
        device = s.device_id
    job = Backup(db, str(tmp_path / "replica"))
    job.replicate_once()
    db.unlink()  # the kiosk's disk died
    result = job.restore(tmp_path / "restored.db", store_key)
    assert result["integrity_check"] == "ok" and result["device_id"] == device
    assert result["outbox"] == 3  # pending changes survive, so the restored store syncs on
    with Store.open(tmp_path / "restored.db", store_key) as s:
        assert sorted(m.value for m in s.health_metrics.list()) == [60, 70, 80]
        s.health_metrics.add({"user_id": user_id, "metric_type": "heart_rate", "value": 90})


def test_restored_replica_is_still_encrypted(tmp_path, store_key, user_id):
    db = tmp_path / "edge.db"
    with Store.open(db, store_key, create=True) as s:
        s.symptoms.add({"user_id": user_id, "description": "unmistakable phrase xyzzy", "severity": 3})
    job = Backup(db, str(tmp_path / "replica"))
    job.replicate_once()
    # Replica files are LZ4-compressed LTX, so check the restored (decompressed) bytes instead.
    job.restore(tmp_path / "restored.db", store_key)
    restored = (tmp_path / "restored.db").read_bytes()
    assert b"healthsync-edge-store" in restored  # the check can see clear text when there is some
    assert b"xyzzy" not in restored
    with pytest.raises(StoreLockedError):
        job.restore(tmp_path / "restored-2.db", KeySource(raw_key=b"\0" * 32))


def test_restore_refuses_to_overwrite(tmp_path, store_key):
    db = tmp_path / "edge.db"
    Store.open(db, store_key, create=True).close()
    (tmp_path / "exists.db").write_bytes(b"x")
    with pytest.raises(HealthSyncError, match="already exists"):
        Backup(db, str(tmp_path / "r")).restore(tmp_path / "exists.db", store_key)


def test_replica_urls():
    assert replica_config("s3://bucket/kiosk-7") == {"type": "s3", "bucket": "bucket", "path": "kiosk-7"}
    assert replica_config("/tmp/x")["type"] == "file"
    with pytest.raises(HealthSyncError, match="unsupported"):
        replica_config("ftp://host/x")


def test_backup_of_missing_store(tmp_path):
    with pytest.raises(HealthSyncError, match="no store"):
        Backup(tmp_path / "none.db", str(tmp_path / "r")).replicate_once()
