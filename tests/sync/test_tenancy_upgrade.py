"""A server and a phone made by the version before issue 10 migrate forward and keep syncing as a personal device:
existing rows get the nil tenant, existing devices the 'personal' kind."""
from __future__ import annotations

import secrets
import shutil
import uuid

from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from sync_server import testing
from sync_server.migrate import MIGRATIONS_DIR, migrate
from tests.sync.conftest import build_app

LAST_BEFORE_TENANCY = "0017"


def test_an_old_server_and_phone_migrate_forward_and_keep_syncing(pg_base_url, tmp_path):
    from fastapi.testclient import TestClient

    old_dir = tmp_path / "old_migrations"
    old_dir.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if f.name[:4] <= LAST_BEFORE_TENANCY:
            shutil.copy(f, old_dir / f.name)
    url = testing.create_database(pg_base_url, "hs_upgrade")
    try:
        migrate(url, old_dir)
        user = uuid.uuid4()
        app = build_app(url, tmp_path / "server")
        with TestClient(app) as http:
            store = Store.open(tmp_path / "phone.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
            store.set_meta("user_id", str(user))
            phone = SyncClient(store, testing.token(user), http=http, options=SyncOptions(attempts=2, backoff_s=0.01))
            phone.enroll("http://testserver")  # enrolled by today's code on the old schema
            old_row = uuid.uuid4()
            with app.state.db.admin() as conn:  # a row the old server already held
                conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                             "VALUES (%s, %s, 'heart_rate', 'bpm', 64, now(), '000000000000001:0000:x')",
                             (old_row, user))
            assert "0050" in migrate(url)
            with app.state.db.admin() as conn:
                assert conn.execute("SELECT clinic_id FROM health_metrics WHERE id = %s", (old_row,)).fetchone()[
                    "clinic_id"] == uuid.UUID(int=0)
                device = conn.execute("SELECT kind, clinic_id FROM sync_devices WHERE user_id = %s", (user,)).fetchone()
            assert device == {"kind": "personal", "clinic_id": None}
            new = store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
            res = phone.run()
            assert res.rejected == 0
            assert store.health_metrics.get(old_row).value == 64  # pulled from the upgraded server
            with app.state.db.admin() as conn:
                assert conn.execute("SELECT clinic_id FROM health_metrics WHERE id = %s", (new.id,)).fetchone()[
                    "clinic_id"] == uuid.UUID(int=0)  # registered nowhere: the nil tenant
            store.close()
        app.state.db.close()
    finally:
        testing.drop_database(pg_base_url, url)
