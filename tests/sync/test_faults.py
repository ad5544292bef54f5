"""Faults: an edge process SIGKILLed mid-push, and a TCP proxy that cuts connections after the server committed.
Afterwards everything converges and nothing is duplicated."""
from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from edge import outbox
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from sync_server import testing

from .netfaults import CuttingProxy

pytestmark = pytest.mark.e2e


def _server_state(db, user):
    with db.session("service_role", {"role": "service_role"}) as conn:
        ids = {str(r["id"]) for r in conn.execute("SELECT id FROM symptoms WHERE user_id=%s", (user,))}
        audits = conn.execute("SELECT count(*) AS n FROM audit_log WHERE subject_id=%s AND action='sync_insert' "
                              "AND table_name='symptoms'", (user,)).fetchone()["n"]
    return ids, audits


def _seed(path, key, url, user, n):
    store = Store.open(path, KeySource(raw_key=key), create=True)
    store.set_meta("user_id", str(user))
    with SyncClient(store, testing.token(user), server_url=url) as client:
        client.enroll(url)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    ids = {str(s.id) for s in store.symptoms.add_many(
        [{"user_id": user, "description": f"s{i}", "severity": i % 11, "recorded_at": when} for i in range(n)])}
    store.close()
    return ids


def test_edge_killed_mid_push_resumes_without_loss_or_duplicates(tmp_path, live_url, db):
    user, key = uuid.uuid4(), secrets.token_bytes(32)
    path = tmp_path / "edge.db"
    written = _seed(path, key, live_url, user, 4000)
    env = {**os.environ, "HEALTHSYNC_KEY": key.hex(), "HEALTHSYNC_TOKEN": testing.token(user)}
    cmd = [sys.executable, "-c", "from edge.sync_cli import app; app()", "run", "--store", str(path),
           "--batch-size", "50", "--json"]
    rng = random.Random(7)
    killed = 0
    for _ in range(3):
        before = len(_server_state(db, user)[0])
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Kill only once this process has pushed something, at a random point after that.
        deadline = time.monotonic() + 60
        while len(_server_state(db, user)[0]) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        _, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]
    assert killed >= 2
    store = Store.open(path, KeySource(raw_key=key))
    try:
        with SyncClient(store, testing.token(user)) as client:
            client.run()
        assert outbox.pending_count(store) == 0 and outbox.quarantined(store) == []
    finally:
        store.close()
    ids, audits = _server_state(db, user)
    assert ids == written
    assert audits == len(written)  # each change applied exactly once, however often it was sent


def test_connection_cut_after_commit_is_retried_without_duplicates(tmp_path, live_url, db):
    user, key = uuid.uuid4(), secrets.token_bytes(32)
    path = tmp_path / "edge.db"
    written = _seed(path, key, live_url, user, 500)
    proxy = CuttingProxy(live_url, cut={1, 3, 4})
    store = Store.open(path, KeySource(raw_key=key))
    try:
        client = SyncClient(store, testing.token(user), server_url=proxy.url,
                            options=SyncOptions(batch_size=100, attempts=6, backoff_s=0.01, backoff_max_s=0.05))
        result = client.run()
        assert proxy.cuts_done == 3
        assert result.accepted + result.duplicate == len(written) and result.duplicate >= 100
        assert outbox.pending_count(store) == 0
    finally:
        client.close()
        store.close()
        proxy.close()
    ids, audits = _server_state(db, user)
    assert ids == written and audits == len(written)


def _start_server(port, pg_url, data_dir):
    env = {**os.environ, "DATABASE_URL": pg_url, "SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET,
           "HEALTHSYNC_SERVER_DATA": str(data_dir), "RATE_LIMIT_REQUESTS": "100000"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "sync_server.sync_testing:app_from_env", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start")


def test_server_killed_mid_request_converges_without_duplicates(tmp_path, pg_url, db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = _start_server(port, pg_url, tmp_path / "server")
    try:
        user, key = uuid.uuid4(), secrets.token_bytes(32)
        written = _seed(tmp_path / "edge.db", key, url, user, 4000)
        store = Store.open(tmp_path / "edge.db", KeySource(raw_key=key))
        client = SyncClient(store, testing.token(user), options=SyncOptions(
            batch_size=50, attempts=40, backoff_s=0.05, backoff_max_s=0.3))
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.setdefault("result", client.run()))
        worker.start()
        deadline = time.monotonic() + 60
        while not _server_state(db, user)[0] and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-push: some batches committed, one possibly in flight
        server.wait(10)
        server = _start_server(port, pg_url, tmp_path / "server")
        worker.join(120)
        assert "result" in outcome and outbox.pending_count(store) == 0
        client.close()
        store.close()
    finally:
        server.kill()
        server.wait(10)
    ids, audits = _server_state(db, user)
    assert ids == written and audits == len(written)
