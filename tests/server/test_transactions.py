"""A request's transaction commits before its answer: a write that fails at COMMIT is never reported as done."""
from __future__ import annotations

import uuid

from fastapi import Depends
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.deps import db_session


def test_commit_failure_is_the_answer(pg_url, db):
    with db.admin() as conn:  # a constraint checked only at COMMIT
        conn.execute("CREATE TABLE IF NOT EXISTS commit_probe (id int, "
                     "CONSTRAINT commit_probe_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)")
        conn.execute("GRANT INSERT, SELECT ON commit_probe TO authenticated")
    app = create_app(testing.settings_for(pg_url))

    def write_twice(conn=Depends(db_session)):
        conn.execute("INSERT INTO commit_probe VALUES (1), (1)")  # fine until COMMIT
        return {"written": True}

    app.add_api_route("/probe", write_twice, methods=["POST"])
    try:
        with TestClient(app) as c:
            r = c.post("/probe", headers=testing.auth(uuid.uuid4()))
        assert r.status_code == 409 and r.json()["error"]["code"] == "DUPLICATE"
        with db.admin() as conn:
            assert conn.execute("SELECT count(*) AS n FROM commit_probe").fetchone()["n"] == 0
    finally:
        app.state.db.close()
