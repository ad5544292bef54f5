"""A request's transaction commits before its answer: a write that fails at COMMIT is never reported as done."""
from __future__ import annotations

import uuid

from fastapi import Depends, Request
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.auth import Principal
from sync_server.deps import TRANSACTION_TRIES, after_commit, current_principal, db_session, in_transaction


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


def _retry_probe_app(pg_url, db, failures: int):
    """An app with a route run by in_transaction whose first `failures` tries Postgres aborts with a real 40P01
    (deadlock_detected) after the try has written a row and queued an after-commit hook."""
    with db.admin() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS retry_probe (try int)")
        conn.execute("TRUNCATE retry_probe")
        conn.execute("GRANT INSERT, SELECT ON retry_probe TO authenticated")
    app = create_app(testing.settings_for(pg_url))
    seen = {"tries": 0, "hooks": []}

    async def probe(request: Request, principal: Principal = Depends(current_principal)):
        def work(conn):
            seen["tries"] += 1
            n = seen["tries"]
            conn.execute("INSERT INTO retry_probe VALUES (%s)", (n,))
            after_commit(request, lambda: seen["hooks"].append(n))
            if n <= failures:
                conn.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', MESSAGE = 'probe'; END $$")
            return {"try": n}

        return await in_transaction(request, principal, "probe", work)

    app.add_api_route("/retry-probe", probe, methods=["POST"])
    return app, seen


def _probe_rows(db) -> list[int]:
    with db.admin() as conn:
        return [r["try"] for r in conn.execute("SELECT try FROM retry_probe ORDER BY try")]


def test_a_deadlocked_transaction_is_run_again(pg_url, db):
    app, seen = _retry_probe_app(pg_url, db, failures=1)
    try:
        with TestClient(app) as c:
            r = c.post("/retry-probe", headers=testing.auth(uuid.uuid4()))
        assert r.status_code == 200 and r.json() == {"try": 2}
        assert _probe_rows(db) == [2]  # the aborted try's write is gone, the second one's kept, once
        assert seen["hooks"] == [2]  # and only the committed try's after-commit hook ran
    finally:
        app.state.db.close()


def test_retries_are_bounded_and_the_last_abort_is_the_answer(pg_url, db):
    app, seen = _retry_probe_app(pg_url, db, failures=99)
    try:
        with TestClient(app) as c:
            r = c.post("/retry-probe", headers=testing.auth(uuid.uuid4()))
        assert r.status_code == 503 and r.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
        assert r.headers.get("retry-after")
        assert seen["tries"] == TRANSACTION_TRIES and _probe_rows(db) == [] and seen["hooks"] == []
    finally:
        app.state.db.close()
