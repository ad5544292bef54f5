"""Initial sync: a new device pulls N rows of its user from a pre-filled server, through the real pull path
(edge.sync_client.SyncClient over HTTP → GET /v1/sync/pull of the real app served by uvicorn in its own process:
JWT, rate limit, RLS, audit of the read, envelope → edge.pull.apply_pulled into an encrypted store, cursor saved
per page, checksums compared on the last page). Reference, in the same run: a raw SELECT of the same rows from
the same Postgres (as the login role, no RLS) and a SQLite `executemany` of them into a plain table. Target <= 3x.

Run: python bench/bench_initial_sync.py [--quick]   (DATABASE_URL, else the local Postgres, else an embedded one)
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402
from edge.sync_client import SyncClient, SyncOptions  # noqa: E402
from protocol.schema import new_id  # noqa: E402
from sync_server import testing  # noqa: E402
from sync_server.app import create_app  # noqa: E402
from sync_server.db import Database  # noqa: E402

COLS = ("id", "user_id", "supersedes", "metric_type", "unit", "value", "recorded_at", "source", "notes", "hlc")
TARGET = 3.0


def fill(db: Database, user: uuid.UUID, n: int) -> None:
    """N heart-rate rows of one user (and a few of another user, which RLS must keep out of the pull)."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    node, wall = str(uuid.uuid4()), int(time.time() * 1000) - 3_600_000
    with db.admin() as conn, conn.cursor().copy(f"COPY health_metrics ({', '.join(COLS)}) FROM STDIN") as copy:
        for owner, count in ((user, n), (uuid.uuid4(), 100)):
            for i in range(count):
                copy.write_row((new_id(), owner, None, "heart_rate", "bpm", float(60 + i % 40),
                                when + dt.timedelta(seconds=i), "wearable", None,
                                f"{wall + i // 1000:015d}:{i % 1000:06d}:{node}"))
    with db.admin() as conn:
        conn.execute("ANALYZE health_metrics")


def app_for(url: str, data_dir: Path):
    """The real server app with the sync routers mounted."""
    from sync_server.routes import ROUTERS
    from sync_server.routes.devices import router as devices_router
    from sync_server.routes.sync import router as sync_router

    app = create_app(testing.settings_for(url, data_dir=data_dir))
    for r in (sync_router, devices_router):
        if r not in ROUTERS:
            app.include_router(r)
    return app


@contextlib.contextmanager
def server(url: str, data_dir: Path) -> Iterator[str]:
    """The real app served by uvicorn in a child process (as deployed); yields its base URL."""
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET,
           "RATE_LIMIT_REQUESTS": "1000000", "HEALTHSYNC_SERVER_DATA": str(data_dir)}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "sync_server.app:create_app",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/v1/sync/server-key", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def run_pull(http, user: uuid.UUID, n: int, tmp: Path, page: int) -> float:
    """Seconds for a freshly enrolled device to pull everything (enrollment not timed)."""
    store = Store.open(tmp / f"edge-{uuid.uuid4().hex}.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
    try:
        store.set_meta("user_id", str(user))
        client = SyncClient(store, testing.token(user), http=http, options=SyncOptions(page_size=page))
        client.enroll("http://testserver")
        gc.collect()
        start = time.perf_counter()
        result = client.pull()
        elapsed = time.perf_counter() - start
        assert result.pulled == n and not result.repaired, result
        assert store.health_metrics.count() == n
    finally:
        store.close()
    return elapsed


def run_raw(db: Database, user: uuid.UUID, n: int, tmp: Path) -> float:
    """Seconds for a raw SELECT of the same rows and a SQLite executemany of them into a plain table."""
    conn = sqlite3.connect(tmp / f"raw-{uuid.uuid4().hex}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store sets it
    conn.execute(f"CREATE TABLE health_metrics ({', '.join(COLS)}, PRIMARY KEY (id))")
    from psycopg.rows import tuple_row

    start = time.perf_counter()
    with db.admin() as pg:
        rows = pg.cursor(row_factory=tuple_row).execute(
            f"SELECT {', '.join(COLS)} FROM health_metrics WHERE user_id = %s ORDER BY change_seq", (user,)).fetchall()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO health_metrics VALUES ({', '.join('?' * len(COLS))})",
                     [tuple(str(v) if isinstance(v, (uuid.UUID, dt.datetime)) else v for v in r) for r in rows])
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    assert conn.execute("SELECT count(*) FROM health_metrics").fetchone()[0] == n
    conn.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    ap.add_argument("--page", type=int, default=SyncOptions.page_size, help="rows per pull page")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side")
    ap.add_argument("--in-process", action="store_true",
                    help="serve the app in this process (fastapi TestClient) instead of a uvicorn child process")
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    base = testing.base_url()
    url = testing.migrated_database(base, prefix="hs_bench_pull")
    db = Database(url, max_size=2)
    try:
        import httpx
        from fastapi.testclient import TestClient

        user = uuid.uuid4()
        fill(db, user, n)
        pulls, raws = [], []
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
            if args.in_process:
                http = stack.enter_context(TestClient(app_for(url, Path(tmp) / "server")))
            else:
                base_url = stack.enter_context(server(url, Path(tmp) / "server"))
                http = stack.enter_context(httpx.Client(base_url=base_url, timeout=60))
            for _ in range(args.repeat):
                pulls.append(run_pull(http, user, n, Path(tmp), args.page))
                raws.append(run_raw(db, user, n, Path(tmp)))
            if args.in_process:
                http.app.state.db.close()
        pull, raw = min(pulls), min(raws)
        ratio = pull / raw
        where = "in process" if args.in_process else "uvicorn child process"
        print(f"rows={n} page={args.page} repeats={args.repeat} server={where} (best of each)")
        print(f"initial sync: {pull:.2f} s ({n / pull:,.0f} rows/s)")
        print(f"raw SELECT + SQLite executemany: {raw:.2f} s ({n / raw:,.0f} rows/s)")
        print(f"ratio sync/raw: {ratio:.2f}x (target <= {TARGET:g}x: {'PASS' if ratio <= TARGET else 'FAIL'})")
    finally:
        db.close()
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
