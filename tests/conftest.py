"""Shared fixtures: a real encrypted edge store in a temporary directory."""
from __future__ import annotations

import os
import secrets
import uuid

import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/healthsync-numba-cache")

from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402


@pytest.fixture
def store_key() -> KeySource:
    """A raw 256-bit key (skips Argon2id so tests stay fast; passphrase tests use their own)."""
    return KeySource(raw_key=secrets.token_bytes(32))


@pytest.fixture
def store(tmp_path, store_key):
    """A fresh edge store on disk, closed after the test."""
    s = Store.open(tmp_path / "edge.db", store_key, create=True)
    yield s
    s.close()


@pytest.fixture
def user_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture(scope="session")
def pg_base_url(tmp_path_factory) -> str:
    """The Postgres cluster for this test session: DATABASE_URL, else 127.0.0.1:5432, else an embedded server."""
    from sync_server import testing
    from sync_server.pg import release_embedded

    pgdata = tmp_path_factory.mktemp("pgdata")
    yield testing.base_url(pgdata)
    release_embedded(pgdata)  # stops the embedded server if this session started one; no-op otherwise


def wind_back(path, version: int) -> None:
    """Leave a store file as the release at `version` left it: every table a later migration created dropped, and
    every column a later migration added to an older table."""
    import re
    import sqlite3

    from edge import migrations

    later_sql = "".join(migrations.MIGRATIONS[version:])
    later = re.findall(r"CREATE TABLE (\w+)", later_sql)
    added = [(t, c) for t, c in re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", later_sql) if t not in later]
    conn = sqlite3.connect(path)
    conn.executescript("".join(f"DROP TABLE {t};" for t in later)
                       + "".join(f"ALTER TABLE {t} DROP COLUMN {c};" for t, c in added)
                       + f"PRAGMA user_version={version};")
    conn.close()
