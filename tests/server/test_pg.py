"""Finding Postgres: a given URL is checked (password never echoed); without one, an embedded server starts."""
from __future__ import annotations

import uuid

import pytest

from sync_server.migrate import discover, migrate
from sync_server.pg import DatabaseUnavailableError, ensure_database, redact, release_embedded


def test_reachable_url_is_returned(pg_url):
    assert ensure_database(pg_url) == pg_url


def test_unreachable_url_is_a_clear_error_without_the_password():
    with pytest.raises(DatabaseUnavailableError) as err:
        ensure_database("postgresql://app:hunter2@127.0.0.1:1/db?connect_timeout=1")
    assert "hunter2" not in str(err.value) and "app:***@127.0.0.1:1" in str(err.value)


def test_redact_leaves_passwordless_urls_alone():
    assert redact("postgresql://postgres@127.0.0.1:5432/test") == "postgresql://postgres@127.0.0.1:5432/test"


@pytest.mark.e2e
def test_embedded_postgres_starts_and_migrates(tmp_path):
    pgdata = tmp_path / "pgdata"
    try:
        url = ensure_database(None, pgdata)
        assert migrate(url) == [m.version for m in discover()]
        assert migrate(url) == []
    finally:
        release_embedded(pgdata)  # now, while the folder is still there, not at interpreter exit
    with pytest.raises(DatabaseUnavailableError):  # we were its only user, so it stopped
        ensure_database(url)


def test_sessions_run_without_the_jit_compiler(db):
    # The care policies' planner costs would make Postgres JIT-compile every pull's checksum query: about a second
    # of compilation for a 100k-row scan that reads in 0.2 s (sync_server/db.py SESSION_OPTIONS).
    with db.session("authenticated", {"sub": str(uuid.uuid4()), "role": "authenticated"}) as conn:
        assert conn.execute("SHOW jit").fetchone()["jit"] == "off"
    with db.admin() as conn:
        assert conn.execute("SHOW jit").fetchone()["jit"] == "off"
