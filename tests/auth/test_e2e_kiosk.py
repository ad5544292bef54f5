"""End to end with real processes: `server run` (embedded auth, 2 s tokens), `server user add`, and a kiosk that
signs in and keeps `sync run --watch` going past three token expiries."""
from __future__ import annotations

import json
import time

import pytest

from sync_server import testing
from sync_server.db import Database
from tests.auth.conftest import PASSWORD
from tests.cli_processes import clean_env, hs, server_run


@pytest.mark.e2e
def test_kiosk_signs_in_and_syncs_past_three_token_expiries(pg_base_url, tmp_path):
    url = testing.create_database(pg_base_url, "hs_auth_e2e")
    base = clean_env()
    server_env = {**base, "DATABASE_URL": url, "SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET,
                  "HEALTHSYNC_AUTH_ACCESS_TTL_S": "2"}
    edge_env = {**base, "HEALTHSYNC_HOME": str(tmp_path / "kiosk"), "HEALTHSYNC_KEY": "ab" * 32}
    log = tmp_path / "server.log"
    with server_run(server_env, log) as server:
        added = hs(server_env, "server", "user", "add", "--email", "pat@clinic.example", "--password-stdin",
                   "--json", stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        uid = json.loads(added.stdout)["id"]

        assert hs(edge_env, "edge", "init", "--user-id", uid).returncode == 0
        signed = hs(edge_env, "edge", "sign-in", "--email", "pat@clinic.example", "--password-stdin",
                    "--auth-url", server, stdin=PASSWORD + "\n")
        assert signed.returncode == 0, signed.stderr
        enrolled = hs(edge_env, "edge", "sync", "enroll", "--server", server)
        assert enrolled.returncode == 0, enrolled.stderr
        for value in (61, 62, 63):
            assert hs(edge_env, "edge", "metrics", "add", "heart_rate", str(value)).returncode == 0
        started = time.monotonic()
        watched = hs(edge_env, "edge", "sync", "run", "--watch", "--interval", "1.5", "--max-rounds", "5")
        assert watched.returncode == 0, watched.stderr
        assert time.monotonic() - started > 3 * 2, "the watch must outlive three 2-second tokens"
        assert "error" not in watched.stderr.lower(), watched.stderr
        status = json.loads(hs(edge_env, "edge", "sync", "status", "--json").stdout)
        assert status["pending"] == 0 and status["quarantined"] == 0
    db = Database(url, max_size=1)
    try:
        with db.session("service_role", {"role": "service_role"}) as conn:
            stored = conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id = %s", (uid,)).fetchone()
            refreshed = conn.execute("SELECT count(*) AS n FROM auth.refresh_tokens WHERE user_id = %s AND revoked",
                                     (uid,)).fetchone()
    finally:
        db.close()
        testing.drop_database(pg_base_url, url)
    assert stored["n"] == 3 and refreshed["n"] >= 3
    said = [json.loads(line).get("message", "") for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("embedded development auth service on at /auth/v1" in m for m in said)
    assert "pat@clinic.example" not in log.read_text() and PASSWORD not in log.read_text()
